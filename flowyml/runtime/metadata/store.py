"""The metadata store on SQLAlchemy 2: runs, step runs, artifacts and lineage.

Each public method is one short transaction on a pooled connection: ``save_step`` is one
upsert of the step row plus, when the step has artifacts, one batched insert of new artifacts
and one replace of its lineage edges. The schema is migrated when the store opens
(:mod:`flowyml.runtime.metadata.migrate`). The URL's password never appears in reprs,
logs or error messages.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.runtime.errors import MetadataError, RunNotFoundError
from flowyml.runtime.metadata import migrate
from flowyml.runtime.metadata.engine import READ_ONLY, create_metadata_engine, mask_url, url_secrets
from flowyml.runtime.metadata.schema import (
    INPUT,
    OUTPUT,
    artifacts,
    lineage,
    pipelines,
    runs,
    step_runs,
)
from flowyml.runtime.metadata.upsert import insert_ignore, upsert

_T = TypeVar("_T")
_WRITE_ATTEMPTS = 5
_RETRY_PAUSE_S = 0.01
# Deadlock victim / serialization failure (PostgreSQL), deadlock / lock wait timeout (MySQL).
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
_TRANSIENT_MYSQL_CODES = frozenset({1213, 1205})
# Steps whose outputs a later run may reuse.
_REUSABLE = (StepStatus.COMPLETED.value, StepStatus.CACHED.value)
_STEP_UPDATE_COLUMNS = (
    "status",
    "started_at",
    "ended_at",
    "duration",
    "cache_key",
    "cached",
    "error",
    "stack",
    "resources",
    "attempts",
    "upstream",
    "executor",
    "log_uri",
    "details",
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(uri: str) -> str:
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()


def _reason(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    # The driver's own message, first line only: SQLAlchemy's adds the SQL and parameters.
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    reason = lines[0] if lines else type(origin).__name__
    for secret in secrets:  # drivers may echo parts of the URL (the host, the DSN)
        reason = reason.replace(secret, "***")
    return reason


def _is_transient(exc: SQLAlchemyError) -> bool:
    origin = getattr(exc, "orig", None)
    if origin is None:
        return False
    code = getattr(origin, "sqlstate", None)  # psycopg
    if code in _TRANSIENT_SQLSTATES:
        return True
    args: tuple[Any, ...] = tuple(getattr(origin, "args", ()))
    return bool(args) and args[0] in _TRANSIENT_MYSQL_CODES  # pymysql: (code, message)


def _step_row(step: StepRecord) -> dict[str, Any]:
    return {
        "run_id": step.run_id,
        "name": step.name,
        "status": StepStatus(step.status).value,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration": step.duration,
        "cache_key": step.cache_key,
        "cached": step.cached,
        "error": step.error,
        "stack": step.stack,
        "resources": None if step.resources is None else dict(step.resources),
        "attempts": step.attempts,
        "upstream": list(step.upstream),
        "executor": step.executor,
        "log_uri": step.log_uri,
        "details": dict(step.details) or None,
    }


def _edges(step: StepRecord) -> list[tuple[str, str, ArtifactRef]]:
    edges = [(OUTPUT, name, ref) for name, ref in step.outputs.items()]
    return edges + [(INPUT, name, ref) for name, ref in step.inputs.items()]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlMetadataStore:
    """Runs, step runs, artifacts and lineage in SQLite, PostgreSQL or MySQL/MariaDB.

    Args:
        url: SQLAlchemy URL: ``sqlite:///path.db``, ``postgresql+psycopg://user:pw@host/db``,
            ``mysql+pymysql://user:pw@host/db``.
        engine_options: Extra ``create_engine`` keyword arguments (pool sizes...).
        migrate: Apply pending migrations on open (on by default).

    Raises:
        MetadataError: the database cannot be reached or migrated.
    """

    def __init__(
        self,
        url: str,
        *,
        engine_options: Mapping[str, Any] | None = None,
        migrate: bool = True,
    ) -> None:
        self._masked_url = mask_url(url)
        self._secrets = url_secrets(url)
        try:
            self._engine: Engine = create_metadata_engine(url, engine_options)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise MetadataError(
                f"cannot open metadata store {self._masked_url}: {_reason(exc, self._secrets)}",
                hint="check the URL and that its database driver is installed",
            ) from exc
        if migrate:
            self.migrate()

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return self._masked_url

    @property
    def engine(self) -> Engine:
        """The pooled SQLAlchemy engine."""
        return self._engine

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self._masked_url!r})"

    def migrate(self) -> bool:
        """Apply pending migrations; True when any ran."""
        try:
            return migrate.upgrade(self._engine)
        except (SQLAlchemyError, TimeoutError, OSError) as exc:
            raise MetadataError(
                f"cannot open metadata store {self._masked_url}: {_reason(exc, self._secrets)}",
                hint="check that the database server is running and the URL is right",
            ) from exc

    def close(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()

    def _write(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` in one write transaction, retrying it when the server picks it as a
        deadlock victim (concurrent upserts on MySQL/PostgreSQL can cross index locks)."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._engine.begin() as connection:
                    return work(connection)
            except SQLAlchemyError as exc:
                if attempt < _WRITE_ATTEMPTS and _is_transient(exc):
                    time.sleep(_RETRY_PAUSE_S * attempt * (1 + random.random()))
                    continue
                raise MetadataError(
                    f"metadata store {self._masked_url} write failed: {_reason(exc, self._secrets)}"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                yield connection
                connection.rollback()
        except SQLAlchemyError as exc:
            raise MetadataError(
                f"metadata store {self._masked_url} read failed: {_reason(exc, self._secrets)}"
            ) from exc

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, run: RunRecord) -> None:
        """Record a new run (normally ``running``), creating its pipeline row if needed."""

        def work(connection: Connection) -> None:
            insert_ignore(
                connection, pipelines, [{"name": run.pipeline, "created_at": run.started_at}]
            )
            upsert(
                connection,
                runs,
                [
                    {
                        "run_id": run.run_id,
                        "pipeline": run.pipeline,
                        "status": RunStatus(run.status).value,
                        "started_at": run.started_at,
                        "ended_at": run.ended_at,
                        "stack": run.stack,
                        "params": dict(run.params),
                        "error": run.error,
                    }
                ],
                keys=("run_id",),
                update=("status", "started_at", "ended_at", "stack", "params", "error"),
            )

        self._write(work)

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        """Mark run ``run_id`` finished with ``status`` and set its end time.

        Raises:
            RunNotFoundError: there is no such run.
        """
        statement = (
            runs.update()
            .where(runs.c.run_id == run_id)
            .values(status=RunStatus(status).value, ended_at=_now(), error=error)
        )
        if self._write(lambda connection: connection.execute(statement).rowcount) == 0:
            raise RunNotFoundError(f"no run with id {run_id!r}.")

    # -- steps -------------------------------------------------------------------------------

    def save_step(self, step: StepRecord) -> None:
        """Insert or update one step run with its output artifacts and consumed inputs."""
        self.save_steps([step])

    def save_steps(self, steps: Sequence[StepRecord]) -> None:
        """Insert or update several step runs in one transaction (the runner batches them).

        Later records of the same step supersede earlier ones in the batch.
        """
        if not steps:
            return
        now = _now()
        latest = {(s.run_id, s.name): s for s in steps}
        rows = [_step_row(step) for step in latest.values()]
        produced: dict[str, dict[str, Any]] = {}
        edges: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for step in steps:  # in order: the first writer of a URI is its producer
            for direction, name, ref in _edges(step):
                digest = _digest(ref.uri)
                produced.setdefault(
                    digest,
                    {
                        "uri_digest": digest,
                        "uri": ref.uri,
                        "type_name": ref.type_name,
                        "materializer": ref.materializer,
                        "size": ref.size,
                        "content_hash": ref.content_hash,
                        "producer_run_id": step.run_id,
                        "producer_step": step.name,
                        "output_name": name,
                        "created_at": now,
                    },
                )
                edges[(step.run_id, step.name, direction, name)] = {
                    "run_id": step.run_id,
                    "step": step.name,
                    "direction": direction,
                    "name": name,
                    "artifact_digest": digest,
                }

        def work(connection: Connection) -> None:
            upsert(
                connection, step_runs, rows, keys=("run_id", "name"), update=_STEP_UPDATE_COLUMNS
            )
            if not edges:
                return
            # Cached and consumed refs already exist: only their first writer is the producer.
            insert_ignore(connection, artifacts, list(produced.values()))
            # Edges only accumulate (inputs while running, outputs on completion): an upsert
            # keyed by (run, step, direction, name) replaces a delete + insert round trip.
            upsert(
                connection,
                lineage,
                list(edges.values()),
                keys=("run_id", "step", "direction", "name"),
                update=("artifact_digest",),
            )

        self._write(work)

    def find_cached(self, cache_key: str) -> Mapping[str, ArtifactRef] | None:
        """Outputs of the newest completed (or cached) step run with ``cache_key``, or ``None``."""
        with self._read() as connection:
            newest = connection.execute(
                sa.select(step_runs.c.run_id, step_runs.c.name)
                .where(step_runs.c.cache_key == cache_key, step_runs.c.status.in_(_REUSABLE))
                .order_by(step_runs.c.ended_at.desc(), step_runs.c.id.desc())
                .limit(1)
            ).first()
            if newest is None:
                return None
            rows = connection.execute(
                self._edges_query().where(
                    lineage.c.run_id == newest.run_id,
                    lineage.c.step == newest.name,
                    lineage.c.direction == OUTPUT,
                )
            ).all()
        return {row.name: self._ref(row) for row in rows}

    # -- reading -----------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its steps, by id or unique id prefix.

        Raises:
            RunNotFoundError: no run has this id or prefix.
            MetadataError: the prefix matches several runs.
        """
        with self._read() as connection:
            row = connection.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
            if row is None and run_id:
                matches = connection.execute(
                    sa.select(runs)
                    .where(runs.c.run_id.like(_like_escape(run_id) + "%", escape="\\"))
                    .limit(2)
                ).all()
                if len(matches) > 1:
                    raise MetadataError(
                        f"run id prefix {run_id!r} matches several runs.",
                        hint="give more characters of the run id",
                    )
                row = matches[0] if matches else None
            if row is None:
                raise RunNotFoundError(
                    f"no run with id {run_id!r}.", hint="list runs with `flowyml runs list`."
                )
            step_rows = connection.execute(
                sa.select(step_runs)
                .where(step_runs.c.run_id == row.run_id)
                .order_by(step_runs.c.id)
            ).all()
            edge_rows = connection.execute(
                self._edges_query().where(lineage.c.run_id == row.run_id)
            ).all()
        edges: dict[tuple[str, str], dict[str, ArtifactRef]] = {}
        for edge in edge_rows:
            edges.setdefault((edge.step, edge.direction), {})[edge.name] = self._ref(edge)
        steps = tuple(
            StepRecord(
                run_id=s.run_id,
                name=s.name,
                status=StepStatus(s.status),
                started_at=s.started_at,
                ended_at=s.ended_at,
                cache_key=s.cache_key,
                cached=bool(s.cached),
                error=s.error,
                stack=s.stack,
                resources=s.resources,
                attempts=s.attempts,
                outputs=edges.get((s.name, OUTPUT), {}),
                inputs=edges.get((s.name, INPUT), {}),
                upstream=tuple(s.upstream or ()),
                executor=s.executor,
                log_uri=s.log_uri,
                details=s.details or {},
            )
            for s in step_rows
        )
        return self._run(row, steps)

    def list_runs(self, pipeline: str | None = None, limit: int = 20) -> Sequence[RunRecord]:
        """Newest runs first (optionally of one pipeline), without their steps."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        if pipeline is not None:
            query = query.where(runs.c.pipeline == pipeline)
        with self._read() as connection:
            rows = connection.execute(query.limit(max(0, limit))).all()
        return [self._run(row, ()) for row in rows]

    @staticmethod
    def _edges_query() -> sa.Select[Any]:
        return sa.select(
            lineage.c.step,
            lineage.c.direction,
            lineage.c.name,
            artifacts.c.uri,
            artifacts.c.type_name,
            artifacts.c.materializer,
            artifacts.c.size,
            artifacts.c.content_hash,
        ).join(artifacts, artifacts.c.uri_digest == lineage.c.artifact_digest)

    @staticmethod
    def _ref(row: Any) -> ArtifactRef:
        return ArtifactRef(
            uri=row.uri,
            type_name=row.type_name,
            materializer=row.materializer,
            size=int(row.size),
            content_hash=row.content_hash,
        )

    @staticmethod
    def _run(row: Any, steps: tuple[StepRecord, ...]) -> RunRecord:
        return RunRecord(
            run_id=row.run_id,
            pipeline=row.pipeline,
            status=RunStatus(row.status),
            started_at=row.started_at,
            ended_at=row.ended_at,
            stack=row.stack,
            params=row.params or {},
            error=row.error,
            steps=steps,
        )
