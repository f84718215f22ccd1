"""Executor factory for the local executor: a thread pool, or a process pool on request.

Process pools use the ``forkserver`` start method where the platform has it (else ``spawn``):
forking a process that already holds threads and pooled database connections can copy a
held lock into the child and hang it. Either way steps (and their arguments) must be
picklable and importable by module path.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

THREAD_NAME_PREFIX = "flowyml-step"


def default_start_method() -> str:
    """``forkserver`` when available, else ``spawn`` (never plain ``fork``; see module doc)."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def make_executor(
    max_workers: int, use_processes: bool = False, *, start_method: str | None = None
) -> Executor:
    """A fresh executor for one run.

    Args:
        max_workers: Concurrent steps (at least 1).
        use_processes: A process pool (CPU-bound steps) instead of threads.
        start_method: Process start method; :func:`default_start_method` when omitted.

    Returns:
        A ``ThreadPoolExecutor`` or ``ProcessPoolExecutor``; the caller shuts it down.
    """
    workers = max(1, int(max_workers))
    if not use_processes:
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_NAME_PREFIX)
    context = multiprocessing.get_context(start_method or default_start_method())
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
