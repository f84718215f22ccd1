"""The guide's hybrid example runs as written: ``preprocess`` and ``evaluate`` on the local stack,
``train`` on the GCP stack with ``gpu_config`` as a Vertex AI custom job (the real client against
the fake JobService, which runs it on Docker: no GPU here, so the V100s are checked in the
request, not used); its input and output cross between the local store and the bucket."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.outputs import (
    ARTIFACT_URI,
    EXECUTOR_ENDPOINT,
    METADATA_URL,
    PROJECT_ID,
    REGION,
    REGISTRY_URI,
    StackOutputs,
)
from flowyml.core.records import RunStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.executors import vertex as vertex_executor

from .fake_vertex import FakeVertex

pytestmark = pytest.mark.docker
HERE = Path(__file__).parent


def test_the_guides_hybrid_example_runs_as_written(
    project: Path,
    docker_client: Any,
    base_image: str,
    local_registry: str,
    gcs_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("google.cloud.aiplatform_v1", reason="pip install 'flowyml[gcp]'")
    import gcsfs

    from flowyml.provision.state import save_outputs

    shutil.copy(HERE / "hybrid_vertex.py", project / "hybrid_vertex.py")
    fs = gcsfs.GCSFileSystem(**gcs_emulator.storage_options, skip_instance_cache=True)
    if not fs.exists("flowyml-hybrid-test"):
        fs.mkdir("flowyml-hybrid-test")
    fake = FakeVertex(docker_client).start()
    monkeypatch.setattr(vertex_executor, "POLL", 0.1)
    monkeypatch.setattr(vertex_executor, "POLL_MAX", 0.2)
    save_outputs(
        StackOutputs(
            stack="gcp-hybrid",
            values={
                ARTIFACT_URI: "gs://flowyml-hybrid-test",
                METADATA_URL: f"sqlite:///{project / 'gcp-metadata.db'}",
                REGISTRY_URI: local_registry,
                EXECUTOR_ENDPOINT: fake.url,
                REGION: "us-central1",
                PROJECT_ID: "my-project",
            },
            engine="emulated",
        )
    )
    try:
        module_pipeline = load_pipeline("hybrid_vertex.py:hybrid")
        from hybrid_vertex import local_stack  # type: ignore[import-not-found]

        result = module_pipeline.run(stack=local_stack)
    finally:
        fake.stop()

    assert result.status is RunStatus.COMPLETED, result.error
    assert result["evaluate"] == 45.0
    steps = bind_stack(local_stack).metadata_store.get_run(result.run_id).steps
    by_name = {s.name: s for s in steps}
    assert by_name["preprocess"].executor == "local" and by_name["evaluate"].executor == "local"
    train = by_name["train"]
    assert train.executor == "vertex_ai" and train.stack == "gcp-hybrid"
    assert train.inputs["xs"].uri.startswith("gs://flowyml-hybrid-test/")  # copied into the bucket
    assert train.outputs["output"].uri.startswith("gs://flowyml-hybrid-test/")  # saved there
    assert by_name["evaluate"].inputs["model"].uri.startswith("file://")  # and copied back
    pool = fake.requests[0]["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"]["machineType"] == "n1-highmem-16"
    assert pool["machineSpec"]["acceleratorType"] in ("NVIDIA_TESLA_V100", 3)
    assert pool["machineSpec"]["acceleratorCount"] == 4
    assert fake.leftover_containers() == []
