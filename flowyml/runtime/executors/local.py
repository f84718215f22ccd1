"""Local strategies: steps on this machine's threads, or one forked process per attempt.

:class:`PoolStrategy` runs attempts on a :class:`DaemonThreadPool`. An abandoned thread
cannot be stopped: it finishes in the background, its result dropped; while abandoned attempts
still hold pool workers, new attempts run on a dedicated thread so ``capacity`` attempts really
run at once. :class:`ProcessStrategy` forks one child per attempt, which can be terminated.
Both capture what the step prints (:mod:`flowyml.runtime.executors.capture`) and hand it to
the loop with the outcome.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
import traceback
from concurrent.futures import Executor, Future
from multiprocessing.connection import wait as wait_connections
from typing import Any

from flowyml.pipeline.executors import Outcome, StepAttempt, call_step
from flowyml.runtime.executors.capture import captured
from flowyml.runtime.executors.threads import DaemonThreadPool

KIND = "local"


def _run_captured(attempt: StepAttempt) -> Outcome:
    with captured() as chunks:
        outcome = call_step(attempt.func, attempt.args, attempt.kwargs)
    if chunks:
        return Outcome(value=outcome.value, error=outcome.error, log="".join(chunks), executor=KIND)
    return outcome


class _Started:
    """When an attempt began running; set by the worker, read by the loop."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


def _call_timed(started: _Started, attempt: StepAttempt) -> Outcome:
    started.at = time.monotonic()
    return _run_captured(attempt)


class PoolStrategy:
    """Runs attempts on a ``concurrent.futures`` executor (a daemon thread pool by default).

    Abandoned attempts cannot be stopped: they finish in the background and are ignored.
    While they still hold pool workers, new attempts that would queue behind them run on a
    dedicated thread instead, so ``capacity`` attempts really run at once.
    """

    kind = KIND
    needs_values = True
    timeout_note = (
        "its thread cannot be stopped and finishes in the background; its result is discarded"
    )

    def __init__(self, capacity: int, executor: Executor | None = None) -> None:
        self.capacity = max(1, capacity)
        self._executor = executor or DaemonThreadPool(self.capacity)
        self._started: dict[Future[Outcome], _Started] = {}
        self._pooled: set[Future[Outcome]] = set()  # submitted to the pool, not finished
        self._lock = threading.Lock()

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        started = _Started()
        with self._lock:
            self._pooled = {f for f in self._pooled if not f.done()}
            pool_full = len(self._pooled) >= self.capacity
        if pool_full:
            future = self._on_own_thread(started, attempt)
        else:
            future = self._executor.submit(_call_timed, started, attempt)
            with self._lock:
                self._pooled.add(future)
        self._started[future] = started
        return future

    @staticmethod
    def _on_own_thread(started: _Started, attempt: StepAttempt) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()

        def run() -> None:
            future.set_result(_call_timed(started, attempt))

        threading.Thread(target=run, name="flowyml-step-extra", daemon=True).start()
        return future

    def started_at(self, future: Future[Outcome]) -> float | None:
        started = self._started.get(future)
        if started is not None and future.done():
            del self._started[future]
        return started.at if started is not None else None

    def abandon(self, future: Future[Outcome]) -> None:
        future.cancel()  # only helps if it had not started yet
        self._started.pop(future, None)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _child(conn: Any, attempt: StepAttempt) -> None:
    # Ctrl-C reaches the whole foreground process group: the parent records the cancellation
    # and terminates its children, so a child need not (and should not) print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    outcome = _run_captured(attempt)
    try:
        conn.send(outcome)
    except Exception:
        conn.send(
            Outcome(
                error=(
                    "step result cannot be sent back from its process (not picklable): "
                    + traceback.format_exc()
                )
            )
        )
    finally:
        conn.close()


class ProcessStrategy:
    """Runs each attempt in its own child process, which can be terminated on timeout.

    On POSIX the child is forked, so steps need not be importable by module path (a pipeline
    file run by ``flowyml run`` works); only the return value must be picklable. A child
    given up on gets ``SIGTERM``, then ``SIGKILL`` after :attr:`grace` seconds; ``shutdown``
    returns only once every child has ended, so a finished run leaves no process behind.
    """

    grace = 2.0  # seconds a terminated child may take to exit before it is killed
    kind = KIND
    needs_values = True
    timeout_note = "its process was terminated"

    def __init__(self, capacity: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        self._ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.capacity = max(1, capacity)
        self._procs: dict[Future[Outcome], Any] = {}
        self._started: dict[Future[Outcome], float] = {}
        self._lock = threading.Lock()

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=_child, args=(writer, attempt), daemon=True)
        proc.start()
        writer.close()
        with self._lock:
            self._procs[future] = proc
            self._started[future] = time.monotonic()
        threading.Thread(target=self._collect, args=(future, proc, reader), daemon=True).start()
        return future

    def _collect(self, future: Future[Outcome], proc: Any, reader: Any) -> None:
        outcome: Outcome | None = None
        try:
            wait_connections([reader, proc.sentinel])
            if reader.poll():
                outcome = reader.recv()
        except (EOFError, OSError):
            outcome = None
        finally:
            reader.close()
            proc.join()
            with self._lock:
                self._procs.pop(future, None)
                self._started.pop(future, None)
        if outcome is None:
            outcome = Outcome(
                error=f"step process ended without a result (exit code {proc.exitcode})."
            )
        if not future.done():
            future.set_result(outcome)

    def started_at(self, future: Future[Outcome]) -> float | None:
        with self._lock:
            return self._started.get(future)

    def abandon(self, future: Future[Outcome]) -> None:
        with self._lock:
            proc = self._procs.get(future)
        if proc is not None and proc.is_alive():
            proc.terminate()
            # A step that ignores SIGTERM is killed once the grace period is over.
            threading.Thread(target=self._reap, args=(proc,), daemon=True).start()

    def _reap(self, proc: Any) -> None:
        proc.join(self.grace)
        if proc.is_alive():
            proc.kill()

    def shutdown(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + self.grace
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()


def check(bound: Any, steps: Any) -> None:
    """Warn (once per step) about resources this machine's threads cannot honour: GPUs.

    CPU and memory on the local executor are recorded, as always; a GPU request is not
    allocated here, and a step that needs one would find none, so flowyml says so.
    """
    import warnings

    orchestrator = getattr(bound.declaration, "orchestrator", None)
    if str(getattr(orchestrator, "kind", None) or "none") != "none":
        return  # the orchestrator runs the steps (and places them), not these threads
    defaults = getattr(bound.declaration, "resources", None)
    for step in steps:
        res = step.resources_dict() or (
            defaults.model_dump(mode="json", exclude_none=True) if defaults is not None else {}
        )
        if res.get("gpu") or res.get("gpu_count"):
            count = int(res.get("gpu_count") or 1)
            what = f"{count} GPU(s)" + (f" ({res['gpu']})" if res.get("gpu") else "")
            warnings.warn(
                f"step '{step.name}' asks for {what}, but stack {bound.name} runs it on the "
                "local executor, which allocates no GPU: it runs on this machine as it is "
                "(give the step a stack with a GPU executor: docker, kubernetes or vertex_ai)",
                UserWarning,
                stacklevel=2,
            )


def create(bound: Any, max_workers: int, use_processes: bool = False) -> Any:
    """The local strategy of ``bound``: its declared workers and process mode win."""
    workers = bound.max_workers or max_workers
    if use_processes or bound.use_processes:
        return ProcessStrategy(workers)
    return PoolStrategy(workers)
