"""The local executor's daemon thread pool: a ``concurrent.futures`` executor whose workers
never keep the interpreter alive (a hung step must not stop the process from exiting)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from concurrent.futures import CancelledError

import pytest

from flowyml.runtime.executors.threads import DaemonThreadPool


def test_runs_calls_concurrently_up_to_max_workers_and_reuses_threads() -> None:
    barrier = threading.Barrier(3, timeout=20)  # breaks (and fails) unless 3 calls overlap
    pool = DaemonThreadPool(3)
    try:
        first = [pool.submit(barrier.wait) for _ in range(3)]
        assert sorted(f.result(30) for f in first) == [0, 1, 2]
        names = {pool.submit(lambda: threading.current_thread().name).result(5) for _ in range(9)}
        assert len(names) <= 3 and all(n.startswith("flowyml-step_") for n in names)
        assert all(t.daemon for t in threading.enumerate() if t.name in names)
    finally:
        pool.shutdown()


def test_exceptions_reach_the_future_and_shutdown_cancels_queued_calls() -> None:
    gate, running = threading.Event(), threading.Event()

    def block() -> bool:
        running.set()
        return gate.wait(10)

    pool = DaemonThreadPool(1)
    failing = pool.submit(int, "not a number")
    with pytest.raises(ValueError):
        failing.result(5)
    blocker = pool.submit(block)
    assert running.wait(10)
    queued = pool.submit(lambda: "never")
    pool.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(CancelledError):
        queued.result(5)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(lambda: 1)
    gate.set()
    assert blocker.result(5) is True


def test_a_hung_call_does_not_keep_the_process_alive() -> None:
    code = textwrap.dedent(
        """
        import threading
        from flowyml.runtime.executors.threads import DaemonThreadPool
        pool = DaemonThreadPool(1)
        pool.submit(threading.Event().wait)  # never returns
        pool.shutdown(wait=False)
        print("exiting")
        """
    )
    # A ThreadPoolExecutor here would make the interpreter wait for ever at exit.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "exiting"
