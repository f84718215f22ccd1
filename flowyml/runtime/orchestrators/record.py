"""The recorder: an orchestrated run's records in the artifact store -> the metadata store.

Tasks write only to the artifact store (see :mod:`flowyml.runtime.orchestrators.tasks`). This
module reads a run's markers, its manifest and every step's newest attempt, and writes the run
and its steps (status, times, attempts, outputs, inputs as lineage, cache keys, logs) into the
stack's metadata store, the same records a local run leaves. It is idempotent: the follower
calls it while a run goes on and when it ends, ``flowyml runs sync`` / ``runs list`` / ``runs
show`` call it for runs no client watched (schedules).

Statuses: a step whose newest attempt completed is ``completed`` (``cached`` when served from
the cache index); a failed attempt is ``running`` while the engine may still retry it, and
``failed`` once the run is final or its retries are spent; a step with no attempt is
``skipped`` in a final run when something upstream failed, ``cancelled`` otherwise. A final run
is ``failed`` when a step failed, ``cancelled`` when the engine says so or steps never ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.runtime.orchestrators.manifest import RunManifest, pipeline_prefix, run_prefix
from flowyml.runtime.orchestrators.tasks import (
    CONTEXT_FILE,
    children,
    latest_result,
    read_json,
    read_manifest,
)

__all__ = ["list_orchestrated_runs", "sync_run", "sync_stack"]


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def list_orchestrated_runs(store: Any) -> list[tuple[str, str]]:
    """``(pipeline, run_id)`` of every orchestrated run whose first task has started."""
    found = []
    for pipeline in children(store, "_orchestrated"):
        for run_id in children(store, f"{pipeline_prefix(pipeline)}/runs"):
            found.append((pipeline, run_id))
    return found


def _step_record(
    store: Any,
    manifest: RunManifest,
    run_id: str,
    step: Any,
    *,
    final: bool,
    failed_upstream: bool,
    executor: str,
) -> StepRecord:
    attempts, result, last = latest_result(store, manifest.pipeline, run_id, step.name)
    base: dict[str, Any] = {
        "run_id": run_id,
        "name": step.name,
        "stack": manifest.stack,
        "resources": dict(step.resources) if step.resources else None,
        "attempts": attempts,
        "upstream": tuple(step.upstream),
    }
    if attempts == 0:
        status = (
            StepStatus.SKIPPED
            if failed_upstream
            else (StepStatus.CANCELLED if final else StepStatus.PENDING)
        )
        return StepRecord(status=status, **base)
    key = f"{manifest.pipeline}/{run_id}/{step.name}/_attempts/{last}"
    context = read_json(store, f"{key}/{CONTEXT_FILE}") or {}
    inputs = {label: ArtifactRef(**ref) for label, ref in (context.get("inputs") or {}).items()}
    base.update(inputs=inputs, cache_key=context.get("cache_key"))
    if result is None:
        return StepRecord(status=StepStatus.CANCELLED if final else StepStatus.RUNNING, **base)
    details = {"host": result.host, "engine_run": context.get("engine_run_id")}
    base.update(
        started_at=_time(result.started_at),
        ended_at=_time(result.ended_at),
        log_uri=result.log_uri,
        details={k: v for k, v in details.items() if v},
    )
    if result.status == "cached":
        return StepRecord(status=StepStatus.CACHED, cached=True, outputs=result.outputs, **base)
    if result.status == "completed":
        return StepRecord(
            status=StepStatus.COMPLETED, outputs=result.outputs, executor=executor, **base
        )
    may_retry = not final and attempts <= step.retries
    status = StepStatus.RUNNING if may_retry else StepStatus.FAILED
    return StepRecord(status=status, error=result.error, executor=executor, **base)


def sync_run(
    bound: Any,
    pipeline: str,
    run_id: str,
    *,
    engine_state: RunStatus | None = None,
    executor: str | None = None,
) -> RunRecord | None:
    """Write one orchestrated run's records into ``bound``'s metadata store.

    Args:
        bound: The bound stack (its artifact store holds the records).
        pipeline / run_id: Which run.
        engine_state: A final state the engine reported (a run cancelled before its finalize
            task ran is final too).
        executor: The kind recorded as where steps ran (default: the orchestrator's kind).

    Returns:
        The run as recorded, or ``None`` when no task of it has started yet.
    """
    store = bound.artifact_store
    marker = read_json(store, f"{run_prefix(pipeline, run_id)}/started.json")
    if marker is None:
        return None
    manifest = read_manifest(str(marker["manifest"]), dict(store.storage_options))
    final_marker = read_json(store, f"{run_prefix(pipeline, run_id)}/final.json")
    final = final_marker is not None or engine_state is not None
    kind = executor or str(getattr(getattr(bound.declaration, "orchestrator", None), "kind", ""))
    records: list[StepRecord] = []
    failed: set[str] = set()
    for step in manifest.steps:
        upstream_failed = any(name in failed for name in step.upstream)
        record = _step_record(
            store,
            manifest,
            run_id,
            step,
            final=final,
            failed_upstream=upstream_failed,
            executor=kind,
        )
        if record.status in (StepStatus.FAILED, StepStatus.SKIPPED):
            failed.add(step.name)
        records.append(record)
    status, error = _run_status(records, final, engine_state)
    ended = _time(final_marker.get("ended_at")) if final_marker else None
    if final and ended is None:
        ended = datetime.now(timezone.utc)
    run = RunRecord(
        run_id=run_id,
        pipeline=pipeline,
        status=status,
        started_at=_time(str(marker["started_at"])) or datetime.now(timezone.utc),
        ended_at=ended if final else None,
        stack=manifest.stack,
        params=dict(manifest.params),
        error=error,
    )
    meta = bound.metadata_store
    meta.start_run(run)
    meta.save_steps(records)
    return RunRecord(**{**run.__dict__, "steps": tuple(records)})


def _run_status(
    records: Sequence[StepRecord], final: bool, engine_state: RunStatus | None
) -> tuple[RunStatus, str | None]:
    if not final:
        return RunStatus.RUNNING, None
    failed = [r for r in records if r.status is StepStatus.FAILED]
    if failed:
        first = (failed[0].error or "").strip().splitlines()
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return RunStatus.FAILED, f"step '{failed[0].name}' failed{more}: " + (
            first[-1] if first else "unknown error"
        )
    if engine_state is RunStatus.CANCELLED or any(
        r.status in (StepStatus.CANCELLED, StepStatus.PENDING) for r in records
    ):
        return RunStatus.CANCELLED, "cancelled on the orchestrator"
    if engine_state is RunStatus.FAILED:
        return RunStatus.FAILED, "the orchestrator reported the run failed"
    return RunStatus.COMPLETED, None


def sync_stack(bound: Any) -> list[RunRecord]:
    """Record every orchestrated run found in ``bound``'s artifact store that is not final yet.

    Runs the metadata store already holds as finished are skipped (cheap to call often).
    """
    from flowyml.runtime.errors import RunNotFoundError

    synced = []
    for pipeline, run_id in list_orchestrated_runs(bound.artifact_store):
        try:
            known = bound.metadata_store.get_run(run_id)
        except RunNotFoundError:
            known = None
        if known is not None and known.status is not RunStatus.RUNNING:
            continue
        recorded = sync_run(bound, pipeline, run_id)
        if recorded is not None:
            synced.append(recorded)
    return synced
