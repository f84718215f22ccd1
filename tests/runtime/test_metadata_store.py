"""The SQL metadata store on SQLite, PostgreSQL and MariaDB (real servers, fresh database each)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.pipeline.ports import MetadataStore
from flowyml.runtime.errors import MetadataError, RunNotFoundError
from flowyml.runtime.metadata import SqlMetadataStore
from flowyml.runtime.metadata.migrate import current_revision, head_revision

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _ref(name: str, digest: str = "00") -> ArtifactRef:
    return ArtifactRef(
        uri=f"file:///artifacts/{name}.json",
        type_name="builtins.dict",
        materializer="json",
        size=12,
        content_hash=f"sha256:{digest * 32}",
    )


def _run(run_id: str, pipeline: str = "demo", started: datetime = T0) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        pipeline=pipeline,
        status=RunStatus.RUNNING,
        started_at=started,
        stack="local",
        params={"epochs": 5, "lr": 0.1},
    )


def _step(run_id: str, name: str, **changes: object) -> StepRecord:
    fields: dict[str, object] = {
        "run_id": run_id,
        "name": name,
        "status": StepStatus.COMPLETED,
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=1, microseconds=500),
        "cache_key": f"key-{name}",
        "stack": "local",
        "attempts": 1,
    }
    fields.update(changes)
    return StepRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(metadata_url: str) -> SqlMetadataStore:
    return SqlMetadataStore(metadata_url)


def test_implements_the_runner_port(store: SqlMetadataStore) -> None:
    assert isinstance(store, MetadataStore)


def test_migrations_run_once_and_reach_head(metadata_url: str) -> None:
    first = SqlMetadataStore(metadata_url)
    with first.engine.connect() as connection:
        assert current_revision(connection) == head_revision() == "0002"
        tables = set(sa.inspect(connection).get_table_names())
    assert {"pipelines", "runs", "step_runs", "artifacts", "lineage"} <= tables
    assert SqlMetadataStore(metadata_url).migrate() is False


def test_run_round_trips(store: SqlMetadataStore) -> None:
    store.start_run(_run("run-1"))
    store.finish_run("run-1", RunStatus.FAILED, error="boom")
    run = store.get_run("run-1")
    assert (run.pipeline, run.status, run.stack, run.error) == (
        "demo",
        RunStatus.FAILED,
        "local",
        "boom",
    )
    assert run.params == {"epochs": 5, "lr": 0.1}
    assert run.started_at == T0  # timezone-aware, microseconds kept on every backend
    assert run.ended_at is not None and run.ended_at.tzinfo is not None


def test_save_step_upserts_one_row(store: SqlMetadataStore) -> None:
    store.start_run(_run("run-1"))
    store.save_step(_step("run-1", "train", status=StepStatus.RUNNING, ended_at=None))
    traceback_text = "Traceback (most recent call last):\n" + "x" * 100_000
    store.save_step(
        _step(
            "run-1",
            "train",
            status=StepStatus.FAILED,
            error=traceback_text,
            attempts=3,
            resources={"cpu": "2", "memory": "4Gi", "gpu_count": 1},
            upstream=("load",),
        )
    )
    (step,) = store.get_run("run-1").steps
    assert step.status is StepStatus.FAILED
    assert step.error == traceback_text
    assert step.attempts == 3
    assert step.resources == {"cpu": "2", "memory": "4Gi", "gpu_count": 1}
    assert step.upstream == ("load",)
    assert step.duration == pytest.approx(1.0005)


def test_save_steps_writes_a_batch_in_one_go(store: SqlMetadataStore) -> None:
    """The runner's batches: several steps, a step twice (its later record wins), shared refs."""
    store.start_run(_run("run-1"))
    data = _ref("data")
    model = _ref("model", "11")
    store.save_steps(
        [
            _step("run-1", "load", status=StepStatus.RUNNING, ended_at=None),
            _step("run-1", "load", outputs={"output": data}),
            _step("run-1", "train", status=StepStatus.RUNNING, ended_at=None, inputs={"xs": data}),
            _step("run-1", "train", outputs={"output": model}, inputs={"xs": data}),
        ]
    )
    steps = {s.name: s for s in store.get_run("run-1").steps}
    assert {n: s.status for n, s in steps.items()} == {
        "load": StepStatus.COMPLETED,
        "train": StepStatus.COMPLETED,
    }
    assert steps["train"].inputs == {"xs": data}
    assert steps["train"].outputs == {"output": model}
    with store.engine.connect() as connection:
        producers = connection.execute(
            sa.text("SELECT uri, producer_step FROM artifacts ORDER BY uri")
        ).all()
    assert [tuple(p) for p in producers] == [(data.uri, "load"), (model.uri, "train")]
    store.save_steps([])  # nothing to write is not an error


def test_outputs_inputs_and_producers(store: SqlMetadataStore) -> None:
    store.start_run(_run("run-1"))
    data = _ref("data")
    model = _ref("model", "11")
    store.save_step(_step("run-1", "load", outputs={"output": data}))
    store.save_step(
        _step("run-1", "train", outputs={"output": model}, inputs={"xs": data}, upstream=("load",))
    )
    steps = {s.name: s for s in store.get_run("run-1").steps}
    assert steps["load"].outputs == {"output": data}
    assert steps["train"].inputs == {"xs": data}
    assert steps["train"].outputs == {"output": model}
    with store.engine.connect() as connection:
        producers = connection.execute(
            sa.text(
                "SELECT uri, producer_run_id, producer_step, output_name FROM artifacts ORDER BY uri"
            )
        ).all()
    assert [tuple(p) for p in producers] == [
        (data.uri, "run-1", "load", "output"),
        (model.uri, "run-1", "train", "output"),
    ]


def test_find_cached_returns_newest_reusable_outputs(store: SqlMetadataStore) -> None:
    assert store.find_cached("key-train") is None
    store.start_run(_run("run-1"))
    store.save_step(_step("run-1", "train", outputs={"output": _ref("old")}))
    store.start_run(_run("run-2", started=T0 + timedelta(minutes=1)))
    later = T0 + timedelta(minutes=2)
    store.save_step(_step("run-2", "train", ended_at=later, outputs={"output": _ref("new")}))
    store.start_run(_run("run-3", started=T0 + timedelta(minutes=3)))
    store.save_step(
        _step(
            "run-3",
            "train",
            status=StepStatus.FAILED,
            ended_at=later + timedelta(minutes=1),
            outputs={"output": _ref("broken")},
        )
    )
    assert store.find_cached("key-train") == {"output": _ref("new")}


def test_cached_step_reuses_artifacts_and_keeps_the_original_producer(
    store: SqlMetadataStore,
) -> None:
    store.start_run(_run("run-1"))
    store.save_step(_step("run-1", "train", outputs={"output": _ref("model")}))
    store.start_run(_run("run-2"))
    store.save_step(
        _step(
            "run-2",
            "train",
            status=StepStatus.CACHED,
            cached=True,
            outputs={"output": _ref("model")},
        )
    )
    step = store.get_run("run-2").steps[0]
    assert step.cached and step.outputs == {"output": _ref("model")}
    with store.engine.connect() as connection:
        producers = connection.execute(sa.text("SELECT producer_run_id FROM artifacts")).all()
    assert [p[0] for p in producers] == ["run-1"]


def test_get_run_accepts_a_unique_prefix(store: SqlMetadataStore) -> None:
    store.start_run(_run("abc123"))
    store.start_run(_run("abd456"))
    assert store.get_run("abc").run_id == "abc123"
    with pytest.raises(MetadataError, match="matches several runs"):
        store.get_run("ab")
    with pytest.raises(RunNotFoundError) as missing:
        store.get_run("a%")  # LIKE wildcards are literal characters here
    assert str(missing.value).startswith("no run with id 'a%'.")
    assert "\n" not in str(missing.value)


def test_unknown_run_is_a_one_line_error(store: SqlMetadataStore) -> None:
    with pytest.raises(RunNotFoundError, match=r"^no run with id 'nope'\."):
        store.get_run("nope")
    with pytest.raises(RunNotFoundError, match=r"^no run with id 'nope'\."):
        store.finish_run("nope", RunStatus.COMPLETED)


def test_list_runs_newest_first_filtered_and_limited(store: SqlMetadataStore) -> None:
    for i in range(4):
        store.start_run(_run(f"a{i}", "alpha", T0 + timedelta(minutes=i)))
    store.start_run(_run("b0", "beta", T0 + timedelta(minutes=10)))
    store.save_step(_step("a3", "train"))
    assert [r.run_id for r in store.list_runs()] == ["b0", "a3", "a2", "a1", "a0"]
    alpha = store.list_runs("alpha", limit=2)
    assert [r.run_id for r in alpha] == ["a3", "a2"]
    assert all(r.steps == () for r in alpha)


def test_password_never_shown(fresh_database: object) -> None:
    url = sa.make_url(fresh_database("postgresql"))  # type: ignore[operator]
    # The local server trusts every connection, so a password here still connects.
    with_password = url.set(password="hunter2").render_as_string(hide_password=False)
    store = SqlMetadataStore(with_password)
    assert "hunter2" not in repr(store) and "***" in repr(store)
    unreachable = url.set(password="hunter2", port=1).render_as_string(hide_password=False)
    with pytest.raises(MetadataError) as caught:
        SqlMetadataStore(unreachable)
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_where_a_step_ran_round_trips(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    started = datetime.now(timezone.utc)
    store.start_run(RunRecord("r1", "p", RunStatus.RUNNING, started))
    store.save_step(
        StepRecord(
            "r1",
            "train",
            StepStatus.COMPLETED,
            started_at=started,
            ended_at=started,
            executor="docker",
            log_uri="file:///tmp/logs.txt",
            details={"container": "abc123", "host": "builder"},
        )
    )
    (step,) = store.get_run("r1").steps
    assert step.executor == "docker"
    assert step.log_uri == "file:///tmp/logs.txt"
    assert step.details == {"container": "abc123", "host": "builder"}


def test_a_0001_database_is_upgraded_in_place_keeping_its_runs(tmp_path: Path) -> None:
    """A store made by the previous release (revision 0001) gains the new columns."""
    from alembic import command

    from flowyml.runtime.metadata.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(
            sa.text("INSERT INTO pipelines (name, created_at) VALUES ('p', '2026-01-01 00:00:00')")
        )
        connection.execute(
            sa.text(
                "INSERT INTO runs (run_id, pipeline, status, started_at) "
                "VALUES ('old', 'p', 'completed', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    store = SqlMetadataStore(url)
    assert store.get_run("old").status is RunStatus.COMPLETED
    with store.engine.connect() as connection:
        assert current_revision(connection) == "0002"


def test_the_fast_current_schema_check_knows_the_shipped_head() -> None:
    from flowyml.runtime.metadata.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_opening_a_current_store_imports_no_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'm.db'}"
    SqlMetadataStore(url).close()  # creates and migrates it
    code = (
        "import sys\nfrom flowyml.runtime.metadata import SqlMetadataStore\n"
        f"SqlMetadataStore({url!r}).list_runs()\n"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
