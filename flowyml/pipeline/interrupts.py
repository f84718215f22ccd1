"""Ctrl-C during a run, turned from an asynchronous exception into a flag the runner checks.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be, including inside
``concurrent.futures.wait`` while it holds the futures' locks, or inside a database write
with the SQLite write lock taken. Raised there, it leaves those locks held for ever: the
cancellation that follows then deadlocks, or waits on our own database lock, and the run
stays ``running``. So while a run is in progress its SIGINT handler only records the request;
the scheduling loop raises ``KeyboardInterrupt`` itself at a point where it holds nothing.

Only the main thread receives signals, and a handler the program installed itself (or
``SIG_IGN``) is left alone: then Python's usual behaviour applies.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class InterruptFlag:
    """Set by the SIGINT handler during a run; read by the scheduling loop."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` here if Ctrl-C was pressed (a safe point)."""
        if self.requested:
            raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_as_flag() -> Iterator[InterruptFlag]:
    """While the block runs, Ctrl-C sets the yielded flag instead of raising.

    The previous handler is restored on exit. Outside the main thread, or when the program
    has its own SIGINT handler, nothing is installed and the flag is never set.
    """
    flag = InterruptFlag()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield flag
        return
    previous = signal.signal(signal.SIGINT, flag)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
