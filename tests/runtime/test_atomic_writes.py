"""A step killed mid-write leaves no partial artifact that a later run could load.

The writer runs in a child process that is SIGKILLed while saving. Afterwards the final key
must hold nothing (or, if the write had already committed, the complete payload): ``exists``
is false and ``load`` raises ``ArtifactError`` instead of returning a truncated value.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from emulators import S3Emulator

from flowyml.core.records import ArtifactRef
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.errors import ArtifactError

BIG = 64 * 1024 * 1024  # bytes: a write that takes a while
S3_BIG = 110 * 1024 * 1024  # s3fs switches from one PUT to a multipart upload at 100 MiB
KEY = "demo/run1/train/model"


def _expected_ref(store: FsspecArtifactStore, payload: bytes) -> ArtifactRef:
    return ArtifactRef(
        uri=f"{store.root_uri}/{KEY}.bin",
        type_name="builtins.bytes",
        materializer="bytes",
        size=len(payload),
        content_hash="sha256:" + hashlib.sha256(payload).hexdigest(),
    )


def _spawn(script: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _kill_when(child: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
    # Bounded by pytest-timeout, not by a timing assertion.
    while not ready():
        assert child.poll() is None, "the writer exited before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()


def _assert_nothing_loadable(store: FsspecArtifactStore, ref: ArtifactRef) -> None:
    assert not store.exists(ref)
    with pytest.raises(ArtifactError, match="not found"):
        store.load(ref)


def _assert_store_still_works(store: FsspecArtifactStore, payload: bytes) -> None:
    ref = store.save(payload, KEY)
    assert ref == _expected_ref(store, payload)
    assert store.load(ref) == payload


def test_local_writer_killed_before_commit_leaves_no_artifact(tmp_path: Path) -> None:
    # The child blocks inside the final rename: the payload is fully in the temp file, the
    # commit has not happened. That is the worst moment to die.
    script = f"""
        import os, sys, threading
        from flowyml.runtime.artifacts import store as module
        def blocked_replace(src, dst):
            print("ready", flush=True)
            threading.Event().wait()
        module.os.replace = blocked_replace
        store = module.FsspecArtifactStore({tmp_path.as_uri()!r})
        store.save(b"x" * {BIG}, {KEY!r})
    """
    child = _spawn(script)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signal.SIGKILL)
    child.wait()

    store = FsspecArtifactStore(tmp_path.as_uri())
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name.endswith(".tmp") and p.name.startswith(".model.bin.") for p in leftovers] == [
        True
    ]
    _assert_nothing_loadable(store, _expected_ref(store, b"x" * BIG))
    _assert_store_still_works(store, b"fresh")


def test_local_writer_killed_while_writing_leaves_no_partial_artifact(tmp_path: Path) -> None:
    payload_expr = f"bytes(range(256)) * ({BIG} // 256)"
    script = f"""
        from flowyml.runtime.artifacts import FsspecArtifactStore
        FsspecArtifactStore({tmp_path.as_uri()!r}).save({payload_expr}, {KEY!r})
    """
    child = _spawn(script)
    target_dir = tmp_path / KEY.rsplit("/", 1)[0]
    _kill_when(child, lambda: target_dir.is_dir() and any(target_dir.glob(".model.bin.*.tmp")))

    store = FsspecArtifactStore(tmp_path.as_uri())
    payload = bytes(range(256)) * (BIG // 256)
    assert not (target_dir / "model.bin").exists()
    _assert_nothing_loadable(store, _expected_ref(store, payload))
    _assert_store_still_works(store, b"fresh")


def test_s3_writer_killed_mid_upload_leaves_no_object(s3_emulator: S3Emulator) -> None:
    bucket = s3_emulator.new_bucket()
    root = f"s3://{bucket}/artifacts"
    script = f"""
        from flowyml.runtime.artifacts import FsspecArtifactStore
        store = FsspecArtifactStore({root!r}, {s3_emulator.storage_options!r})
        store.save(b"y" * {S3_BIG}, {KEY!r})
    """
    child = _spawn(script)
    client = s3_emulator.client()
    # Killed once the multipart upload has started and before it completes.
    _kill_when(child, lambda: bool(client.list_multipart_uploads(Bucket=bucket).get("Uploads")))

    store = FsspecArtifactStore(root, s3_emulator.storage_options)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert listed == []
    _assert_nothing_loadable(store, _expected_ref(store, b"y" * S3_BIG))
    _assert_store_still_works(store, b"fresh")


def test_a_failed_local_write_raises_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """When the final rename fails (here: a directory squats on the artifact's path), the save
    is an ArtifactError and the temporary file is removed, not left to pile up."""
    store = FsspecArtifactStore((tmp_path / "store").as_uri())
    squatter = tmp_path / "store" / f"{KEY}.bin"
    (squatter / "occupied").mkdir(parents=True)  # a non-empty directory: os.replace must fail
    with pytest.raises(ArtifactError, match="cannot write artifact"):
        store.save(b"payload", KEY)
    assert sorted(p.name for p in squatter.parent.iterdir()) == ["model.bin"]
    assert (squatter / "occupied").is_dir()
