"""Read-only queries the dashboard needs and the store does not offer: a filtered, counted page
of runs, the filter choices, the steps of a page of runs, one artifact by digest.

They use the store's own engine and table definitions (:mod:`flowyml.runtime.metadata.schema`)
on read-only connections, and never write. Paging is ``LIMIT``/``OFFSET`` over the
``(started_at, run_id)`` order the ``ix_runs_started`` / ``ix_runs_pipeline_started`` indexes
serve; the benchmark measures it at 10,000 runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.runtime.metadata.engine import READ_ONLY
from flowyml.runtime.metadata.schema import artifacts, pipelines, runs, step_runs

MAX_PAGE = 200


@dataclass(frozen=True)
class RunFilter:
    """What the runs list is narrowed to (``None``: any)."""

    pipeline: str | None = None
    status: str | None = None
    stack: str | None = None


@dataclass(frozen=True)
class RunsPage:
    """One page of runs, newest first, and how many match in all."""

    runs: tuple[RunRecord, ...]
    total: int
    limit: int
    offset: int


@contextmanager
def _read(engine: Engine) -> Iterator[Connection]:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        yield connection
        connection.rollback()


def _where(query: Any, filters: RunFilter) -> Any:
    if filters.pipeline:
        query = query.where(runs.c.pipeline == filters.pipeline)
    if filters.status:
        query = query.where(runs.c.status == filters.status)
    if filters.stack:
        query = query.where(runs.c.stack == filters.stack)
    return query


def _run(row: Any) -> RunRecord:
    return RunRecord(
        run_id=row.run_id,
        pipeline=row.pipeline,
        status=RunStatus(row.status),
        started_at=row.started_at,
        ended_at=row.ended_at,
        stack=row.stack,
        params=row.params or {},
        error=row.error,
    )


def runs_page(engine: Engine, filters: RunFilter, *, limit: int = 50, offset: int = 0) -> RunsPage:
    """Runs matching ``filters``, newest first, ``limit`` of them from ``offset``."""
    limit = max(1, min(MAX_PAGE, limit))
    offset = max(0, offset)
    query = _where(
        sa.select(
            runs.c.run_id,
            runs.c.pipeline,
            runs.c.status,
            runs.c.started_at,
            runs.c.ended_at,
            runs.c.stack,
            runs.c.params,
            runs.c.error,
        ),
        filters,
    ).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
    count = _where(sa.select(sa.func.count()).select_from(runs), filters)
    with _read(engine) as connection:
        rows = connection.execute(query.limit(limit).offset(offset)).all()
        total = int(connection.execute(count).scalar_one())
    return RunsPage(tuple(_run(r) for r in rows), total, limit, offset)


def filter_choices(engine: Engine) -> dict[str, list[str]]:
    """The pipelines and stacks runs were recorded with, and the run statuses."""
    with _read(engine) as connection:
        names = connection.execute(sa.select(pipelines.c.name).order_by(pipelines.c.name)).scalars()
        found_pipelines = [str(n) for n in names]
        stacks = connection.execute(
            sa.select(runs.c.stack)
            .where(runs.c.stack.is_not(None))
            .distinct()
            .order_by(runs.c.stack)
        ).scalars()
        found_stacks = [str(s) for s in stacks]
    return {
        "pipelines": found_pipelines,
        "stacks": found_stacks,
        "statuses": [s.value for s in RunStatus],
    }


def steps_of(engine: Engine, run_ids: Sequence[str]) -> dict[str, list[StepRecord]]:
    """The steps (without artifacts) of each run in ``run_ids``: enough to price and count them."""
    if not run_ids:
        return {}
    query = (
        sa.select(
            step_runs.c.run_id,
            step_runs.c.name,
            step_runs.c.status,
            step_runs.c.started_at,
            step_runs.c.ended_at,
            step_runs.c.cached,
            step_runs.c.stack,
            step_runs.c.resources,
            step_runs.c.attempts,
        )
        .where(step_runs.c.run_id.in_(list(run_ids)))
        .order_by(step_runs.c.id)
    )
    found: dict[str, list[StepRecord]] = {run_id: [] for run_id in run_ids}
    with _read(engine) as connection:
        for row in connection.execute(query):
            found[row.run_id].append(
                StepRecord(
                    run_id=row.run_id,
                    name=row.name,
                    status=StepStatus(row.status),
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    cached=bool(row.cached),
                    stack=row.stack,
                    resources=row.resources,
                    attempts=row.attempts,
                )
            )
    return found


def artifact(engine: Engine, digest: str) -> tuple[ArtifactRef, dict[str, str]] | None:
    """The artifact recorded under ``digest`` (sha256 of its URI) and who produced it."""
    with _read(engine) as connection:
        row = connection.execute(
            sa.select(artifacts).where(artifacts.c.uri_digest == digest)
        ).first()
    if row is None:
        return None
    ref = ArtifactRef(
        uri=row.uri,
        type_name=row.type_name,
        materializer=row.materializer,
        size=int(row.size),
        content_hash=row.content_hash,
    )
    return ref, {
        "run_id": row.producer_run_id,
        "step": row.producer_step,
        "output": row.output_name,
    }


__all__ = [
    "MAX_PAGE",
    "RunFilter",
    "RunsPage",
    "artifact",
    "filter_choices",
    "runs_page",
    "steps_of",
]
