"""A pipeline run through a ``Stack`` whose metadata store is the real PostgreSQL or MariaDB
server, declared by host/user/database as a user would (a fresh database per test, dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.stacks import Stack
from flowyml.stacks.components import (
    LocalArtifactStore,
    LocalExecutor,
    MySQLMetadataStore,
    PostgreSQLMetadataStore,
)


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def total(xs: list[int]) -> int:
    return sum(xs)


def _declared(backend: str, url: str) -> PostgreSQLMetadataStore | MySQLMetadataStore:
    parsed = sa.make_url(url)
    fields = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port,
        "database": parsed.database,
        "user": parsed.username,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if backend == "postgresql":
        return PostgreSQLMetadataStore(**fields)
    return MySQLMetadataStore(**fields)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_pipeline_run_records_on_the_server_named_by_the_stack(
    backend: str, fresh_database: object, tmp_path: Path
) -> None:
    url = fresh_database(backend)  # type: ignore[operator]
    stack = Stack(
        f"{backend}-stack",
        executor=LocalExecutor(),
        artifact_store=LocalArtifactStore(path=str(tmp_path / "artifacts")),
        metadata_store=_declared(backend, url),
    )
    with Pipeline("on-server") as pipe:
        total(numbers(4))

    first = pipe.run(stack=stack)
    second = pipe.run(stack=stack)

    assert first.status is RunStatus.COMPLETED, first.error
    assert first["total"] == 6
    assert second.cached == ("numbers", "total")
    store = bind_stack(stack).metadata_store
    assert sa.make_url(store.url).database == sa.make_url(url).database
    assert [r.run_id for r in store.list_runs(pipeline="on-server")] == [
        second.run_id,
        first.run_id,
    ]
    recorded = {s.name: s for s in store.get_run(first.run_id).steps}
    assert {n: s.status for n, s in recorded.items()} == {
        "numbers": StepStatus.COMPLETED,
        "total": StepStatus.COMPLETED,
    }
    assert recorded["total"].inputs["xs"] == recorded["numbers"].outputs["output"]
    assert recorded["total"].stack == f"{backend}-stack"
    # The rows really are in that server's database (not a SQLite file somewhere).
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar_one()
    finally:
        engine.dispose()
    assert count == 2
