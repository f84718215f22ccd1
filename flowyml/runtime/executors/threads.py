"""The local executor's thread pool: a ``concurrent.futures`` executor on daemon threads.

Threads are daemons (unlike ``ThreadPoolExecutor``'s, which the interpreter joins at exit): a
step abandoned after its timeout, or still running when Ctrl-C cancelled the run, cannot be
stopped, and must not keep the process alive once the run is recorded and returned.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

THREAD_NAME_PREFIX = "flowyml-step"

T = TypeVar("T")
_WorkItem = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreadPool(Executor):
    """A ``concurrent.futures`` executor on at most ``max_workers`` daemon threads.

    Workers start on demand (only when no idle one can take the call) and are reused, as in
    ``ThreadPoolExecutor``; the difference is that none of them holds the interpreter open.

    Args:
        max_workers: Most calls running at once (at least 1).
        thread_name_prefix: Prefix of the worker threads' names.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = THREAD_NAME_PREFIX) -> None:
        self._max_workers = max(1, int(max_workers))
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)``; the future holds its result or exception."""
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                worker = threading.Thread(
                    target=self._work, name=f"{self._prefix}_{len(self._threads)}", daemon=True
                )
                self._threads.append(worker)
                worker.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to the caller through the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del item, future, fn, args, kwargs  # drop references while idle
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting calls; optionally cancel queued ones and wait for running ones."""
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            threads = list(self._threads)
            for _ in threads:
                self._queue.put(None)
        if wait:
            for worker in threads:
                worker.join()
