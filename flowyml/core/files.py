"""Atomic file writes for flowyml's own state (registry, recorded outputs, caches).

A reader sees either the old file or the new one, never a half-written one: the bytes go to a
temporary file in the same directory, are flushed to disk, and the temporary file is renamed over
the target (``os.replace`` is atomic on POSIX file systems).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically, creating its directory.

    Args:
        path: The file to (re)write.
        data: Its whole new content.
        mode: Permission bits to set before any byte is written (e.g. ``0o600`` for files that
            hold encrypted secrets); the process umask applies when ``None``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
