"""Capture what a step prints, per thread, while still letting it through.

``sys.stdout`` and ``sys.stderr`` are wrapped (once, and again if something replaced them) by
a stream that forwards every write to the original and also appends it to the buffer of the
current thread when that thread is running a step. Threads a step starts itself are not
followed: their output goes through uncaptured.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_local = threading.local()
_install_lock = threading.Lock()


class _Tee(io.TextIOBase):
    """A text stream forwarding to ``original`` and copying into the thread's buffer."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buffer: list[str] | None = getattr(_local, "buffer", None)
        if buffer is not None:
            buffer.append(text)
        return self.original.write(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Tee):
            sys.stdout = _Tee(sys.stdout)
        if not isinstance(sys.stderr, _Tee):
            sys.stderr = _Tee(sys.stderr)


@contextmanager
def captured() -> Iterator[list[str]]:
    """Collect this thread's writes to stdout/stderr into the yielded list of chunks."""
    _install()
    buffer: list[str] = []
    previous = getattr(_local, "buffer", None)
    _local.buffer = buffer
    try:
        yield buffer
    finally:
        _local.buffer = previous
