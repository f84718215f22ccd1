"""Execution strategies handed to the runner's one scheduling loop.

A strategy only knows how to start one attempt of a step (``submit``), when that attempt
really began running (``started_at``, where its timeout clock starts), how many attempts it
runs at once (``capacity``) and what to do with an attempt the loop gave up on (``abandon``):
a thread cannot be killed, so it is left to finish and its result is dropped; a process is
terminated (killed if it ignores that). Both return futures resolving to an :class:`Outcome`,
never raising, so the original traceback text is captured where the step ran.

An abandoned thread still occupies its pool worker until it returns. So that it does not
starve later steps (which would queue behind it, their timeout clock running), the pool
strategy runs an attempt on a dedicated thread whenever abandoned attempts fill the pool.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_connections
from typing import Any, Protocol


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced: a value, or the formatted traceback of its failure."""

    value: Any = None
    error: str | None = None


def call_step(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Outcome:
    """Call ``func`` and wrap its result or traceback (runs where the step runs)."""
    try:
        return Outcome(value=func(*args, **kwargs))
    except Exception as exc:
        # Start the traceback at the step function: this frame is flowyml's, not the user's.
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        return Outcome(error="".join(traceback.format_exception(type(exc), exc, tb)))


class StepExecutor(Protocol):
    """The strategy interface the scheduling loop uses."""

    capacity: int

    def submit(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Future[Outcome]:
        """Start one attempt; the future resolves to its :class:`Outcome`."""
        ...

    def started_at(self, future: Future[Outcome]) -> float | None:
        """``time.monotonic()`` when the attempt began running, ``None`` while it waits."""
        ...

    def abandon(self, future: Future[Outcome]) -> None:
        """Give up on a running attempt (timeout or cancellation)."""
        ...

    def shutdown(self) -> None:
        """Release workers without waiting for abandoned attempts."""
        ...


class _Started:
    """When an attempt began running; set by the worker, read by the loop."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None


def _call_timed(
    started: _Started,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Outcome:
    started.at = time.monotonic()
    return call_step(func, args, kwargs)


class PoolStrategy:
    """Runs attempts on a ``concurrent.futures`` executor (the stack's thread pool).

    Abandoned attempts cannot be stopped: they finish in the background and are ignored.
    While they still hold pool workers, new attempts that would queue behind them run on a
    dedicated thread instead, so ``capacity`` attempts really run at once.
    """

    def __init__(self, executor: Executor, capacity: int) -> None:
        self._executor = executor
        self.capacity = capacity
        self._started: dict[Future[Outcome], _Started] = {}
        self._pooled: set[Future[Outcome]] = set()  # submitted to the pool, not finished
        self._lock = threading.Lock()

    def submit(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Future[Outcome]:
        started = _Started()
        with self._lock:
            self._pooled = {f for f in self._pooled if not f.done()}
            pool_full = len(self._pooled) >= self.capacity
        if pool_full:
            future = self._on_own_thread(started, func, args, kwargs)
        else:
            future = self._executor.submit(_call_timed, started, func, args, kwargs)
            with self._lock:
                self._pooled.add(future)
        self._started[future] = started
        return future

    @staticmethod
    def _on_own_thread(
        started: _Started,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()

        def run() -> None:
            future.set_result(_call_timed(started, func, args, kwargs))

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


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> None:
    # Ctrl-C reaches the whole foreground process group: the parent records the cancellation
    # and terminates its children, so a child need not (and should not) print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    outcome = call_step(func, args, kwargs)
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

    def __init__(self, capacity: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        self._ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.capacity = capacity
        self._procs: dict[Future[Outcome], Any] = {}
        self._started: dict[Future[Outcome], float] = {}
        self._lock = threading.Lock()

    def submit(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=_child, args=(writer, func, args, dict(kwargs)), daemon=True
        )
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
