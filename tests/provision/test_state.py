"""Recorded outputs (secrets encrypted at rest), passphrase handling and stack locks, on real files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from flowyml.core.outputs import StackOutputs
from flowyml.provision.errors import StackLockedError, StateError
from flowyml.provision.state import (
    delete_outputs,
    load_outputs,
    passphrase,
    save_outputs,
    stack_dir,
    stack_lock,
)

DB_URL = "postgresql://flowyml:Sup3r-S3cret-Pw@10.0.0.5:5432/flowyml"


def _outputs() -> StackOutputs:
    return StackOutputs(
        stack="production",
        values={"artifact_uri": "gs://bucket", "metadata_url": DB_URL, "port": 5432},
        secrets=frozenset({"metadata_url"}),
        engine="pulumi",
    )


def test_roundtrip_and_no_clear_secret_on_disk(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWYML_PASSPHRASE", "correct horse")
    root = project / ".flowyml"
    path = save_outputs(_outputs(), root)
    raw = path.read_bytes()
    assert b"Sup3r-S3cret-Pw" not in raw and DB_URL.encode() not in raw
    assert b"gs://bucket" in raw  # plain outputs stay readable
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_outputs("production", root)
    assert loaded is not None
    assert loaded.reveal("metadata_url") == DB_URL
    assert loaded.get("port") == 5432
    assert loaded.secrets == frozenset({"metadata_url"})
    assert "Sup3r" not in repr(loaded)


def test_wrong_passphrase_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWYML_PASSPHRASE", "one")
    save_outputs(_outputs(), project)
    monkeypatch.setenv("FLOWYML_PASSPHRASE", "two")
    with pytest.raises(StateError, match="passphrase differs"):
        load_outputs("production", project)


def test_generated_passphrase_is_private_and_stable(project: Path) -> None:
    first = passphrase(project)
    assert passphrase(project) == first
    file = project / "passphrase"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    save_outputs(_outputs(), project)
    loaded = load_outputs("production", project)
    assert loaded is not None and loaded.reveal("metadata_url") == DB_URL


def test_pulumi_passphrase_env_is_honoured(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "from-pulumi")
    assert passphrase(project) == "from-pulumi"
    assert not (project / "passphrase").exists()


def test_missing_and_delete(project: Path) -> None:
    assert load_outputs("never", project) is None
    save_outputs(_outputs(), project)
    assert delete_outputs("production", project) is True
    assert delete_outputs("production", project) is False
    assert load_outputs("production", project) is None


def test_corrupt_file_is_a_state_error(project: Path) -> None:
    path = stack_dir("broken", project) / "outputs.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(StateError, match="unreadable"):
        load_outputs("broken", project)


def test_stack_names_cannot_escape_the_state_dir(project: Path) -> None:
    with pytest.raises(StateError):
        stack_dir("../evil", project)


def _try_lock(project: Path) -> None:
    with stack_lock("local", "destroy", root=project, timeout=0):
        pass


def test_lock_excludes_a_second_holder(project: Path) -> None:
    # flock locks belong to open file descriptions, so a second open in this process conflicts
    # exactly as another process would.
    with stack_lock("local", "up", root=project):
        with pytest.raises(
            StackLockedError, match="stack local is locked by another update"
        ) as err:
            _try_lock(project)
        assert "up by pid" in str(err.value)
    _try_lock(project)
