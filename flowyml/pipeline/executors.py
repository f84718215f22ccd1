"""Execution strategies handed to the runner's one scheduling loop.

A strategy only knows how to start one attempt of a step (``submit``), how many attempts it
runs at once (``capacity``) and what to do with an attempt the loop gave up on (``abandon``):
a thread cannot be killed, so it is left to finish and its result is dropped; a process is
terminated. Both return futures resolving to an :class:`Outcome`, never raising, so the
original traceback text is captured where the step ran.
"""

from __future__ import annotations

import multiprocessing
import threading
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
    except Exception:
        return Outcome(error=traceback.format_exc())


class StepExecutor(Protocol):
    """The strategy interface the scheduling loop uses."""

    capacity: int

    def submit(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Future[Outcome]:
        """Start one attempt; the future resolves to its :class:`Outcome`."""
        ...

    def abandon(self, future: Future[Outcome]) -> None:
        """Give up on a running attempt (timeout or cancellation)."""
        ...

    def shutdown(self) -> None:
        """Release workers without waiting for abandoned attempts."""
        ...


class PoolStrategy:
    """Runs attempts on a ``concurrent.futures`` executor (the stack's thread pool).

    Abandoned attempts cannot be stopped: they finish in the background and are ignored.
    """

    def __init__(self, executor: Executor, capacity: int) -> None:
        self._executor = executor
        self.capacity = capacity

    def submit(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Future[Outcome]:
        return self._executor.submit(call_step, func, args, kwargs)

    def abandon(self, future: Future[Outcome]) -> None:
        future.cancel()  # only helps if it had not started yet

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> None:
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
    file run by ``flowyml run`` works); only the return value must be picklable.
    """

    def __init__(self, capacity: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        self._ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.capacity = capacity
        self._procs: dict[Future[Outcome], Any] = {}
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
        if outcome is None:
            outcome = Outcome(
                error=f"step process ended without a result (exit code {proc.exitcode})."
            )
        if not future.done():
            future.set_result(outcome)

    def abandon(self, future: Future[Outcome]) -> None:
        with self._lock:
            proc = self._procs.get(future)
        if proc is not None and proc.is_alive():
            proc.terminate()

    def shutdown(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
