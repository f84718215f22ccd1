"""LocalEngine on real directories and a real SQLite database (nothing mocked)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flowyml.core.plan import CREATE, DELETE, NOOP, UPDATE
from flowyml.provision.errors import StackLockedError, StateError, UnsupportedStackError
from flowyml.provision.events import Progress
from flowyml.provision.local_engine import LocalEngine
from flowyml.provision.state import load_outputs, stack_lock
from flowyml.stacks import LocalStack


def _run_pipeline(stack: LocalStack) -> str:
    from flowyml.pipeline import pipeline, step
    from flowyml.runtime import binding

    @step
    def make() -> int:
        return 41

    @step
    def inc(x: int) -> int:
        return x + 1

    @pipeline
    def answer() -> None:
        inc(make())

    # The binding caches stores per URL; a destroyed database must not be served from the cache.
    binding.clear_cache()
    result = answer.run(stack=stack)
    binding.clear_cache()
    assert result.status == "completed", result
    return result.run_id


def _runs(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])


def test_up_run_destroy_up_again(project: Path) -> None:
    engine = LocalEngine()
    stack = LocalStack()
    artifacts, db = project / ".flowyml" / "artifacts", project / ".flowyml" / "metadata.db"

    preview = engine.preview(stack)
    assert [c.actions for c in preview.changes] == [CREATE, CREATE]
    assert not artifacts.exists()  # preview touches nothing

    seen: list[Progress] = []
    result = engine.up(stack, on_event=seen.append)
    assert artifacts.is_dir() and db.is_file()
    assert result.outputs.get("artifact_uri") == artifacts.as_uri()
    assert result.outputs.get("metadata_url") == f"sqlite:///{db}"
    assert [p.phase for p in seen] == ["start", "done", "start", "done"]
    recorded = load_outputs("local")
    assert recorded is not None and recorded.values == result.outputs.values

    # Idempotent: nothing left to do.
    assert not engine.preview(stack).has_changes
    assert not engine.up(stack).plan.has_changes

    _run_pipeline(stack)
    assert _runs(db) == 1

    doomed = engine.destroy_preview(stack)
    assert {c.name for c in doomed.changes} == {"artifacts", "metadata"}
    assert all(c.actions == DELETE and c.data_bearing for c in doomed.changes)
    assert any("artifact file(s)" in d for d in doomed.diagnostics)
    assert any("every recorded run" in d for d in doomed.diagnostics)

    destroyed = engine.destroy(stack)
    assert destroyed.summary.delete == 2
    assert not artifacts.exists() and not db.exists()
    assert load_outputs("local") is None
    with pytest.raises(StateError, match="stack up local"):
        engine.outputs(stack)

    engine.up(stack)
    assert _runs(db) == 0  # a fresh database, migrated
    _run_pipeline(stack)
    assert _runs(db) == 1


def test_old_schema_is_an_update(project: Path) -> None:
    engine = LocalEngine()
    stack = LocalStack()
    engine.up(stack)
    db = project / ".flowyml" / "metadata.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'old'")
    changes = engine.preview(stack).by_address()
    assert changes["flowyml:local:SqliteDatabase::metadata"].actions == UPDATE
    assert changes["flowyml:local:ArtifactRoot::artifacts"].actions == NOOP


def test_locked_stack_fails_cleanly(project: Path) -> None:
    engine = LocalEngine(lock_timeout=0.2)
    with stack_lock("local", "up"), pytest.raises(StackLockedError, match="locked by another"):
        engine.up(LocalStack())
    assert not (project / ".flowyml" / "metadata.db").exists()


def test_refuses_to_delete_the_project_dir(project: Path) -> None:
    stack = LocalStack(artifact_path=".")
    engine = LocalEngine()
    engine.up(stack)
    with pytest.raises(StateError, match="refusing to delete"):
        engine.destroy(stack)
    assert project.is_dir()


def test_refresh_forgets_outputs_when_everything_is_gone(project: Path) -> None:
    import shutil

    engine = LocalEngine()
    stack = LocalStack()
    engine.up(stack)
    assert not engine.refresh(stack).has_changes
    shutil.rmtree(project / ".flowyml" / "artifacts")
    (project / ".flowyml" / "metadata.db").unlink()
    plan = engine.refresh(stack)
    assert plan.summary.delete == 2
    assert load_outputs("local") is None


def test_cloud_stacks_are_not_local(project: Path) -> None:
    from flowyml.stacks.k8s import KubernetesStack

    with pytest.raises(UnsupportedStackError):
        LocalEngine().preview(KubernetesStack(name="k"))
