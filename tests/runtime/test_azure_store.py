"""az:// on Azurite: storage options from the declaration or the environment, and a real run.

The round trip of every materializer on az:// is in ``test_artifact_store.py`` (the
``artifact_store`` fixture includes Azurite); here the stack-level paths: an ``AzureBlobStore``
declaration with a connection string, ``AZURE_STORAGE_CONNECTION_STRING``, and a pipeline run
whose artifacts land in the container and load back as their types.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from emulators import AzuriteEmulator

from flowyml import Pipeline, step
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.storage_options import storage_options_for
from flowyml.stacks import Stack
from flowyml.stacks.components import AzureBlobStore, LocalExecutor, SQLiteMetadataStore


@step
def make_frame() -> tuple[pd.DataFrame, np.ndarray]:
    return pd.DataFrame({"x": [1, 2, 3]}), np.arange(3, dtype=np.int64)


@step
def summarise(frame: pd.DataFrame, arr: np.ndarray) -> dict[str, int]:
    return {"rows": len(frame), "sum": int(arr.sum())}


def _stack(tmp_path: Path, store: AzureBlobStore) -> Stack:
    return Stack(
        "azure-test",
        executor=LocalExecutor(),
        artifact_store=store,
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "meta.db")),
    )


def test_declared_connection_string_is_the_storage_option(azurite: AzuriteEmulator) -> None:
    store = AzureBlobStore(container="c1", connection_string=azurite.connection_string)
    assert storage_options_for(store.uri, store) == {"connection_string": azurite.connection_string}


def test_environment_connection_string_is_used_without_one_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=a;AccountKey=k")
    store = AzureBlobStore(container="c1", account_name="a")
    assert storage_options_for(store.uri, store) == {
        "connection_string": "AccountName=a;AccountKey=k"
    }


@pytest.mark.parametrize("source", ["declaration", "environment"])
def test_pipeline_runs_with_artifacts_on_azurite(
    azurite: AzuriteEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    container = azurite.new_container()
    if source == "declaration":
        store = AzureBlobStore(
            container=container, prefix="runs", connection_string=azurite.connection_string
        )
    else:
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
        store = AzureBlobStore(container=container, prefix="runs")
    stack = _stack(tmp_path, store)
    with Pipeline("azure-demo", enable_cache=False) as pipe:
        summarise(*make_frame())

    result = pipe.run(stack=stack)

    assert result.status == "completed", result.error
    assert result["summarise"] == {"rows": 3, "sum": 3}
    outputs = result.steps["make_frame"].outputs
    assert all(ref.uri.startswith(f"az://{container}/runs/azure-demo/") for ref in outputs.values())
    frame, arr = result["make_frame"]
    assert isinstance(frame, pd.DataFrame) and isinstance(arr, np.ndarray)
    # The payloads really are blobs in the container, not files somewhere else.
    import adlfs

    fs = adlfs.AzureBlobFileSystem(**azurite.storage_options, skip_instance_cache=True)
    blobs = fs.find(f"{container}/runs/azure-demo/{result.run_id}")
    assert sorted(Path(b).name for b in blobs) == [
        "output.json",
        "output_0.parquet",
        "output_1.npy",
    ]
    recorded = bind_stack(stack).metadata_store.get_run(result.run_id)
    assert recorded.status == "completed"
