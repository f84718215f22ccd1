"""The fsspec artifact store on every backend: local files, memory, moto S3, GCS emulator, Azurite."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowyml.core.records import ArtifactRef
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.errors import ArtifactError

VALUES = {
    "json": {"weights": [0.5, 1.5], "epochs": 3, "name": "m"},
    "bytes": b"\x00\x01binary",
    "numpy": np.arange(6, dtype=np.float64).reshape(2, 3),
    "pandas": pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}),
    "pickle": ("a", 1),
}


def _payload(store: FsspecArtifactStore, ref: ArtifactRef) -> bytes:
    data: bytes = store.filesystem.cat_file(ref.uri)
    return data


@pytest.mark.parametrize("materializer", list(VALUES))
def test_every_materializer_round_trips(
    artifact_store: FsspecArtifactStore, materializer: str
) -> None:
    value = VALUES[materializer]
    ref = artifact_store.save(value, f"demo/run1/step/{materializer}")
    assert ref.materializer == materializer
    assert ref.uri.startswith(artifact_store.root_uri + "/demo/run1/step/")
    payload = _payload(artifact_store, ref)
    assert ref.size == len(payload)
    assert ref.content_hash == "sha256:" + hashlib.sha256(payload).hexdigest()
    loaded = artifact_store.load(ref)
    assert type(loaded) is type(value)
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(loaded, value)
    elif isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, value)
    else:
        assert loaded == value


def test_exists_follows_the_payload(artifact_store: FsspecArtifactStore) -> None:
    ref = artifact_store.save([1, 2], "demo/run1/a/output")
    assert artifact_store.exists(ref)
    artifact_store.delete(ref)
    assert not artifact_store.exists(ref)
    with pytest.raises(ArtifactError, match="artifact not found"):
        artifact_store.load(ref)


def test_overwritten_payload_is_detected_as_corrupt(artifact_store: FsspecArtifactStore) -> None:
    ref = artifact_store.save({"a": 1}, "demo/run1/a/output")
    artifact_store.filesystem.pipe_file(ref.uri, b'{"a":2}')
    with pytest.raises(ArtifactError, match="corrupt"):
        artifact_store.load(ref)


def test_same_content_has_the_same_hash(artifact_store: FsspecArtifactStore) -> None:
    first = artifact_store.save({"k": [1, 2, 3]}, "demo/run1/a/output")
    second = artifact_store.save({"k": [1, 2, 3]}, "demo/run2/a/output")
    other = artifact_store.save({"k": [1, 2, 4]}, "demo/run3/a/output")
    assert first.uri != second.uri
    assert first.content_hash == second.content_hash != other.content_hash


@pytest.mark.parametrize("key", ["", "/abs/key", "a/../b", "a//b", "a/./b", "a\\b"])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ArtifactError, match="invalid artifact key"):
        FsspecArtifactStore(tmp_path.as_uri()).save(1, key)


def test_plain_path_root_becomes_a_file_uri(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "artifacts"))
    assert store.root_uri == (tmp_path / "artifacts").as_uri()
    ref = store.save("x", "p/r/s/o")
    assert Path(ref.uri.removeprefix("file://")).is_file()


def test_local_save_leaves_no_temp_files(tmp_path: Path) -> None:
    store = FsspecArtifactStore(tmp_path.as_uri())
    for i in range(5):
        store.save(np.zeros(1000), f"p/r/s/out{i}")
    names = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert names == [f"out{i}.npy" for i in range(5)]


def test_ref_from_another_root_loads(tmp_path: Path) -> None:
    old = FsspecArtifactStore((tmp_path / "old").as_uri())
    ref = old.save({"from": "old"}, "p/r/s/o")
    new = FsspecArtifactStore((tmp_path / "new").as_uri())
    assert new.exists(ref)
    assert new.load(ref) == {"from": "old"}


def test_unknown_scheme_is_an_artifact_error() -> None:
    with pytest.raises(ArtifactError, match="cannot open artifact store"):
        FsspecArtifactStore("nosuchscheme://bucket/x")
