"""Ctrl-C during a run becomes a flag checked by the loop (never an exception raised inside a
lock), and the run ends ``cancelled``; a program's own SIGINT handler is left alone."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus, StepStatus
from flowyml.pipeline.interrupts import interrupts_as_flag
from flowyml.pipeline.runner import run_pipeline

from .doubles import LocalRuntimeStack

RELEASE = threading.Event()


@pytest.fixture(autouse=True)
def _python_sigint_handler() -> Iterator[None]:
    """Start from Python's own SIGINT handler, whatever the test process inherited.

    A process started with SIGINT ignored (a background job of a non-interactive shell:
    ``pytest &``, CI wrappers) keeps it ignored, and then the handler checks below would fail
    for a reason that has nothing to do with flowyml.
    """
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, inherited)


@step(cache=False)
def presses_ctrl_c() -> int:
    os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, where the loop runs
    RELEASE.wait(10)
    return 1


def test_sigint_sets_the_flag_instead_of_raising() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with interrupts_as_flag() as flag:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 10
        while not flag.requested and time.monotonic() < deadline:
            time.sleep(0.01)  # a signal handler runs between bytecodes of the main thread
        assert flag.requested
        with pytest.raises(KeyboardInterrupt):
            flag.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_programs_own_handler_is_left_alone() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with interrupts_as_flag() as flag:
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + 10
            while not seen and time.monotonic() < deadline:
                time.sleep(0.01)
        assert seen == [signal.SIGINT] and not flag.requested
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_a_run_ends_it_cancelled(runtime_stack: LocalRuntimeStack) -> None:
    RELEASE.clear()
    with Pipeline("ctrl-c") as p:
        presses_ctrl_c()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(p, runtime_stack)
    finally:
        RELEASE.set()
    (run,) = runtime_stack.metadata_store.list_runs(pipeline="ctrl-c")
    assert run.status is RunStatus.CANCELLED
    steps = runtime_stack.metadata_store.get_run(run.run_id).steps
    assert [s.status for s in steps] == [StepStatus.CANCELLED]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
