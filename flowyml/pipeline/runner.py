"""The runner: one scheduling loop that executes a DAG on bound stacks.

Invariants:
- Steps start in topological order (``graphlib``); independent steps run concurrently on the
  strategy of their stack (threads by default, one process per attempt on request).
- Only the loop's thread touches the metadata store: a step is recorded ``running`` when its
  first attempt starts and once more with its final status.
- Every output is saved under ``<pipeline>/<run_id>/<invocation>/<output>`` in the artifact
  store of the stack the step ran on; a consumer on a stack whose artifact store differs gets a
  copy saved in its own store under the producer's key, and records that copy as its input.
- A failed step (after its retries) marks everything downstream ``skipped``; independent
  branches go on; the run ends ``failed``. An attempt over its timeout fails with
  ``TimeoutError`` (a thread is left to finish in the background, a process is terminated).
  The timeout clock starts when the attempt begins running, not when it is queued.
- ``KeyboardInterrupt`` (Ctrl-C / SIGINT) ends the run ``cancelled`` and is re-raised. During a
  run Ctrl-C only sets a flag the loop checks at safe points (see ``interrupts``), so it never
  lands inside a lock or a database write.
"""

from __future__ import annotations

import contextlib
import gc
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from flowyml.core.records import RunRecord, RunStatus
from flowyml.pipeline.interrupts import interrupts_as_flag
from flowyml.pipeline.ports import MetadataStore, RuntimeStack
from flowyml.pipeline.result import PipelineResult
from flowyml.pipeline.scheduler import RunLoop, RunnablePipeline

__all__ = ["RunnablePipeline", "new_run_id", "run_pipeline"]


def new_run_id() -> str:
    """A fresh run identifier (32 hex characters)."""
    return uuid.uuid4().hex


def run_pipeline(
    pipeline: RunnablePipeline,
    runtime_stack: RuntimeStack,
    *,
    step_stacks: Mapping[str, RuntimeStack] | None = None,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> PipelineResult:
    """Run ``pipeline`` on a bound stack and record everything in its metadata store.

    Args:
        pipeline: The pipeline (name, DAG, cache and worker settings).
        runtime_stack: The pipeline's bound stack: its metadata store gets the run records,
            its executor and artifact store serve every step not routed elsewhere.
        step_stacks: Invocation name -> bound stack for steps declared with ``stack=``.
        params: Pipeline parameters to record with the run.
        run_id: Use this run id instead of a fresh one.

    Returns:
        The :class:`PipelineResult`; a failed run is returned, not raised.

    Raises:
        KeyboardInterrupt: after recording the run ``cancelled``.
    """
    run_id = run_id or new_run_id()
    meta = runtime_stack.metadata_store
    record = RunRecord(
        run_id=run_id,
        pipeline=pipeline.name,
        status=RunStatus.RUNNING,
        started_at=datetime.now(timezone.utc),
        stack=runtime_stack.name,
        params=dict(params or {}),
    )
    with interrupts_as_flag() as flag:
        run = RunLoop(pipeline, runtime_stack, step_stacks or {}, run_id, flag)
        meta.start_run(record)
        try:
            status, error = _execute(run, meta)
        finally:
            run.shutdown()
    if flag.requested:  # pressed while the run was being finished: it is recorded, now stop
        raise KeyboardInterrupt
    return run.result(status, error)


def _execute(run: RunLoop, meta: MetadataStore) -> tuple[RunStatus, str | None]:
    """Run the loop and record how the run ended (``cancelled`` on Ctrl-C, then re-raised)."""
    interrupted = False
    try:
        status, error = run.execute()
        run.recorder.flush()
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as exc:
        with contextlib.suppress(Exception):
            run.cancel()
        meta.finish_run(run.run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    if interrupted:
        # Recorded outside the `except`: a KeyboardInterrupt Python raised by itself (the
        # flag is not installed off the main thread) may have landed in a database write,
        # whose cursor and SQLite lock its traceback pins until collected.
        gc.collect()
        run.cancel()
        meta.finish_run(run.run_id, RunStatus.CANCELLED, "interrupted (KeyboardInterrupt)")
        raise KeyboardInterrupt
    meta.finish_run(run.run_id, status, error)
    return status, error
