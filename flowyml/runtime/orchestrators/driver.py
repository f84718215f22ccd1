"""Hand a whole pipeline to the stack's orchestrator: compile, submit, follow, record.

One path for ``flowyml compile``, ``flowyml run`` and ``flowyml schedule create``:
the run's code package is uploaded and its image built or reused (the executors' submission),
the manifest written to the artifact store, the engine's artifact compiled from it. A run is then
submitted with a flowyml run id the driver records at once (``running``), and followed: each
step's state is printed as the engine reports it, the recorder brings the metadata store up to
date while it goes on and once more when it ends. ``detach`` returns right after submitting;
Ctrl-C while following asks the engine to cancel the run and records it ``cancelled``.
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flowyml.core.records import RunRecord, RunStatus
from flowyml.runtime.orchestrators.base import Engine, EngineState
from flowyml.runtime.orchestrators.errors import OrchestratorError
from flowyml.runtime.orchestrators.manifest import (
    RunManifest,
    build_manifest,
    run_prefix,
    write_manifest,
)
from flowyml.runtime.orchestrators.record import sync_run
from flowyml.stacks.flavors import flavor

__all__ = [
    "Compiled",
    "compile_pipeline",
    "default_output",
    "engine_for",
    "is_orchestrated",
    "orchestrator_kind",
    "record_unwatched",
    "refresh",
    "run_orchestrated",
]

POLL_S = 2.0
Say = Callable[[str], None]


def orchestrator_kind(declaration: Any) -> str:
    """The stack's orchestrator kind (``none`` when it has none)."""
    return str(getattr(getattr(declaration, "orchestrator", None), "kind", None) or "none")


def is_orchestrated(bound: Any) -> bool:
    """The stack hands whole pipelines to an orchestrator."""
    return orchestrator_kind(bound.declaration) != "none"


def engine_for(bound: Any) -> Engine:
    """The engine of ``bound``'s orchestrator (its flavor's runtime module).

    Raises:
        OrchestratorError: the stack's orchestrator and executor do not fit (see the flavor
            table's ``orchestrator_problems``), or the engine refuses the stack.
    """
    from flowyml.stacks.flavors import orchestrator_problems

    problems = orchestrator_problems(bound.declaration)
    if problems:
        raise OrchestratorError(
            f"stack {bound.name}: {problems[0].message}; nothing was run", hint=problems[0].hint
        )
    kind = orchestrator_kind(bound.declaration)
    if kind == "none":
        raise OrchestratorError(
            f"stack {bound.name} has no orchestrator, so there is nothing to hand the pipeline to",
            hint=f"declare an orchestrator (vertex_ai, kubeflow, airflow) on stack {bound.name}, "
            "or run the pipeline with `flowyml run`",
        )
    found = flavor("orchestrator", kind)
    if found is None or found.runtime is None:
        raise OrchestratorError(f"stack {bound.name}: orchestrator {kind!r} has no runtime")
    engine: Engine = importlib.import_module(found.runtime).create(bound)
    return engine


def _environment(bound: Any, submission: Any) -> dict[str, str]:
    from flowyml.runtime.executors.remote import public_options
    from flowyml.runtime.tasks import STORAGE_OPTIONS_ENV

    env = dict(submission.environment)
    options = public_options(bound.artifact_store.storage_options)
    if options:
        env[STORAGE_OPTIONS_ENV] = json.dumps(options, sort_keys=True)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class Compiled:
    """A pipeline compiled for one stack's orchestrator."""

    engine: Engine
    manifest: RunManifest
    manifest_uri: str
    artifact: Path
    bound: Any


def compile_pipeline(
    pipeline: Any,
    bound: Any,
    output: Path | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    build: bool = True,
    progress: Say | None = None,
) -> Compiled:
    """Upload the code, ensure the image, write the manifest and the engine's artifact.

    Args:
        pipeline: The (built) pipeline.
        bound: Its bound stack (with an orchestrator).
        output: Where the artifact goes (default: a temporary file).
        params: Pipeline parameters recorded with its runs.
        build: Build and push the image when missing (``False``: only plan its reference,
            as ``flowyml compile`` does).
        progress: Receives one line per preparation step.

    Raises:
        OrchestratorError / BindingError / ImageError: the stack cannot take the pipeline.
    """
    from flowyml.runtime.orchestrators.shipping import prepare

    engine = engine_for(bound)
    steps = [inv.step for inv in pipeline.dag]
    prepared = prepare(bound, steps, build=build, progress=progress)
    submission = prepared.submission
    manifest = build_manifest(
        pipeline, prepared, submission, _environment(prepared, submission), params
    )
    manifest_uri = write_manifest(manifest, prepared.artifact_store)
    if output is None:
        folder = Path(tempfile.mkdtemp(prefix="flowyml-compile-"))
        output = folder / f"{pipeline.name}{engine.suffix}"
    artifact = engine.compile(manifest, manifest_uri, output)
    return Compiled(engine, manifest, manifest_uri, artifact, prepared)


def default_output(pipeline: str, bound: Any) -> Path:
    """Where ``flowyml compile`` writes by default: ``<pipeline>.yaml`` (KFP) or the DAG file."""
    kind = orchestrator_kind(bound.declaration)
    if kind == "airflow":
        from flowyml.runtime.orchestrators.airflow_dag import dag_id

        return Path(f"{dag_id(pipeline)}.py")
    return Path(f"{pipeline}.yaml")


def _mark_submitted(compiled: Compiled, run_id: str, handle: str) -> None:
    store = compiled.bound.artifact_store
    prefix = run_prefix(compiled.manifest.pipeline, run_id)
    started = {
        "run_id": run_id,
        "engine_run_id": "",
        "manifest": compiled.manifest_uri,
        "started_at": datetime.now(timezone.utc).isoformat(),
    }
    store.put_bytes(f"{prefix}/started.json", json.dumps(started, sort_keys=True).encode())
    engine = {"kind": compiled.engine.kind, "handle": handle}
    store.put_bytes(f"{prefix}/engine.json", json.dumps(engine, sort_keys=True).encode())


def run_orchestrated(
    pipeline: Any,
    bound: Any,
    params: Mapping[str, Any] | None = None,
    *,
    detach: bool = False,
    progress: Say | None = None,
    poll_s: float = POLL_S,
) -> Any:
    """Compile, submit and (unless ``detach``) follow one run; returns its ``PipelineResult``.

    Raises:
        KeyboardInterrupt: after the engine was asked to cancel and the run recorded so.
    """
    from flowyml.pipeline.runner import new_run_id

    say = progress or _log_line
    compiled = compile_pipeline(pipeline, bound, params=params, progress=say)
    run_id = new_run_id()
    handle = compiled.engine.submit(compiled.artifact, compiled.manifest, run_id)
    # Airflow's tasks derive the flowyml run id from the engine's run id: record it under that.
    recorded = getattr(compiled.engine, "recorded_run_id", None)
    if recorded is not None:
        run_id = recorded(handle)
    _mark_submitted(compiled, run_id, handle)
    meta = compiled.bound.metadata_store
    meta.start_run(
        RunRecord(
            run_id=run_id,
            pipeline=pipeline.name,
            status=RunStatus.RUNNING,
            started_at=datetime.now(timezone.utc),
            stack=bound.name,
            params=dict(params or {}),
        )
    )
    say(f"submitted to {compiled.engine.kind}: {handle} (flowyml run {run_id[:12]})")
    if detach:
        return _result(compiled.bound, pipeline.name, run_id)
    follow(compiled.engine, compiled.bound, pipeline.name, run_id, handle, say=say, poll_s=poll_s)
    return _result(compiled.bound, pipeline.name, run_id)


def follow(
    engine: Engine,
    bound: Any,
    pipeline: str,
    run_id: str,
    handle: str,
    *,
    say: Say,
    poll_s: float = POLL_S,
) -> EngineState:
    """Poll the engine until the run ends, printing step state changes and recording as it goes.

    Raises:
        KeyboardInterrupt: Ctrl-C: the engine was asked to cancel, the run recorded cancelled.
    """
    seen: dict[str, str] = {}
    try:
        while True:
            state = engine.state(handle)
            for task, word in sorted(state.tasks.items()):
                if seen.get(task) != word:
                    say(f"{task}: {word}")
                    seen[task] = word
            if state.final is not None:
                sync_run(bound, pipeline, run_id, engine_state=state.final)
                say(
                    f"run {run_id[:12]} {state.final.value}"
                    + (f": {state.message}" if state.message else "")
                )
                return state
            sync_run(bound, pipeline, run_id)
            time.sleep(poll_s)
    except KeyboardInterrupt:
        say(f"cancelling {handle} on {engine.kind}...")
        try:
            engine.cancel(handle)
        finally:
            sync_run(bound, pipeline, run_id, engine_state=RunStatus.CANCELLED)
            bound.metadata_store.finish_run(
                run_id, RunStatus.CANCELLED, "interrupted: cancelled on the orchestrator"
            )
        raise


def refresh(bound: Any, run_id: str) -> RunRecord | None:
    """Bring one orchestrated run's record up to date (asking the engine when it was submitted
    from here and is not final); ``None`` when it is not an orchestrated run of this stack."""
    from flowyml.runtime.orchestrators.record import list_orchestrated_runs
    from flowyml.runtime.orchestrators.tasks import read_json

    store = bound.artifact_store
    for pipeline, found in list_orchestrated_runs(store):
        if found != run_id:
            continue
        engine_state = None
        submitted = read_json(store, f"{run_prefix(pipeline, run_id)}/engine.json")
        if submitted is not None and is_orchestrated(bound):
            try:
                engine_state = engine_for(bound).state(str(submitted["handle"])).final
            except Exception:  # the engine unreachable: the records alone still say a lot
                engine_state = None
        return sync_run(bound, pipeline, run_id, engine_state=engine_state)
    return None


def record_unwatched(bound: Any) -> bool:
    """Record the orchestrated runs ``bound``'s artifact store holds that are not final in its
    metadata store yet (``runs list`` / ``runs show``); True when any was. A stack without an
    orchestrator costs nothing here."""
    if not is_orchestrated(bound):
        return False
    from flowyml.runtime.orchestrators.record import sync_stack

    return bool(sync_stack(bound))


def _result(bound: Any, pipeline: str, run_id: str) -> Any:
    from flowyml.pipeline.result import PipelineResult

    record = bound.metadata_store.get_run(run_id)
    return PipelineResult(
        run_id=run_id,
        pipeline=pipeline,
        status=record.status,
        steps={step.name: step for step in record.steps},
        stack=record.stack,
        error=record.error,
        _loader=lambda _step, ref: bound.artifact_store.load(ref),
    )


def _log_line(line: str) -> None:
    import logging

    logging.getLogger("flowyml.run").info(line)


def check_cron(cron: str) -> str:
    """``cron`` when it is a five-field cron expression.

    Raises:
        OrchestratorError: it is not.
    """
    fields = cron.split()
    allowed = set("0123456789*/,-")
    if len(fields) != 5 or not all(set(f) <= allowed for f in fields):
        raise OrchestratorError(
            f"schedule {cron!r} is not a five-field cron expression",
            hint='write minute hour day-of-month month day-of-week, e.g. --cron "0 3 * * *"',
        )
    return " ".join(fields)


def create_schedule(
    pipeline: Any,
    bound: Any,
    cron: str,
    *,
    params: Mapping[str, Any] | None = None,
    progress: Say | None = None,
) -> str:
    """Compile ``pipeline`` (image built and pushed) and schedule it on ``cron``; its id."""
    cron = check_cron(cron)
    compiled = compile_pipeline(pipeline, bound, params=params, progress=progress)
    return compiled.engine.create_schedule(compiled.artifact, compiled.manifest, cron)
