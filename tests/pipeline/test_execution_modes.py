"""Threads and processes: steps really run side by side, in child processes when asked, and a
thread abandoned after its timeout neither starves later steps nor starts their clocks early.

Concurrency is proven by rendezvous (each step waits until all have started), never by timing.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus, StepStatus
from flowyml.pipeline.executors import StepAttempt
from flowyml.pipeline.runner import run_pipeline
from flowyml.runtime.executors.local import PoolStrategy
from flowyml.stacks import Stack
from flowyml.stacks.components import LocalArtifactStore, LocalExecutor, SQLiteMetadataStore

from .doubles import LocalRuntimeStack

RENDEZVOUS_LIMIT = 20.0  # seconds; a step alone past this means the steps did not overlap


@step(cache=False)
def burn_and_meet(folder: str, index: int, parties: int) -> int:
    """CPU work, then wait until every party has arrived: only passes if all run at once."""
    total = sum(k % 7 for k in range(200_000))
    Path(folder, f"arrived-{index}").write_text(str(os.getpid()))
    deadline = time.monotonic() + RENDEZVOUS_LIMIT
    while len(list(Path(folder).glob("arrived-*"))) < parties:
        if time.monotonic() > deadline:
            raise RuntimeError(f"step {index} ran alone: the steps were not concurrent")
        time.sleep(0.01)
    return os.getpid() if total >= 0 else -1


def _meeting(name: str, folder: Path, parties: int, **options: object) -> Pipeline:
    with Pipeline(name, **options) as p:  # type: ignore[arg-type]
        for i in range(parties):
            burn_and_meet(str(folder), i, parties)
    return p


def test_process_mode_runs_cpu_steps_in_parallel_child_processes(
    runtime_stack: LocalRuntimeStack, tmp_path: Path
) -> None:
    p = _meeting("cpu", tmp_path, 3, use_processes=True, max_workers=3)
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.COMPLETED, result.error
    pids = {result[name] for name in result.steps}
    assert len(pids) == 3  # one process per step...
    assert os.getpid() not in pids  # ...none of them this one


def test_stack_with_a_process_executor_runs_steps_in_parallel_processes(tmp_path: Path) -> None:
    stack = Stack(
        "procs",
        executor=LocalExecutor(use_processes=True, max_workers=2),
        artifact_store=LocalArtifactStore(path=str(tmp_path / "artifacts")),
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "metadata.db")),
    )
    meet = tmp_path / "meet"
    meet.mkdir()
    result = _meeting("cpu-stack", meet, 2).run(stack=stack)
    assert result.status is RunStatus.COMPLETED, result.error
    pids = {result[name] for name in result.steps}
    assert len(pids) == 2 and os.getpid() not in pids


STUCK_STARTED = threading.Event()
STUCK_DONE = threading.Event()
RELEASE = threading.Event()


@step(cache=False, timeout=0.2)
def stuck() -> str:
    STUCK_STARTED.set()
    RELEASE.wait(5)
    STUCK_DONE.set()
    return "late"


@step(cache=False, timeout=5)
def after_stuck() -> tuple[bool, bool]:
    """Whether the stuck step had started, and whether its thread had returned."""
    return STUCK_STARTED.is_set(), STUCK_DONE.is_set()


def test_an_abandoned_thread_does_not_hold_the_only_worker(
    runtime_stack: LocalRuntimeStack,
) -> None:
    for event in (STUCK_STARTED, STUCK_DONE, RELEASE):
        event.clear()
    with Pipeline("abandoned", max_workers=1) as p:
        stuck()  # declared first, so started first
        after_stuck()
    try:
        result = run_pipeline(p, runtime_stack)
    finally:
        RELEASE.set()
    assert result.steps["stuck"].status is StepStatus.FAILED
    assert "exceeded its timeout" in (result.steps["stuck"].error or "")
    # With one worker, the second step ran while the abandoned thread was still blocked.
    assert result.steps["after_stuck"].status is StepStatus.COMPLETED
    assert result["after_stuck"] == (True, False)


def test_timeout_clock_starts_when_the_attempt_runs_not_when_it_is_queued() -> None:
    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as shared:
        blocker = shared.submit(gate.wait, 5)  # someone else holds the only worker
        strategy = PoolStrategy(1, shared)
        future = strategy.submit(StepAttempt("r", "p", "s", 1, lambda: "ran", (), {}))
        assert strategy.started_at(future) is None  # queued: no clock yet
        gate.set()
        assert blocker.result(5) is True
        assert future.result(5).value == "ran"
        started = strategy.started_at(future)
        assert started is not None and started <= time.monotonic()
