"""Module-level steps shared by the pipeline tests (fixtures build standard shapes from them)."""

from __future__ import annotations

import os
import threading
import time

from flowyml import step

CALLS: dict[str, int] = {}
_lock = threading.Lock()


def count(name: str) -> int:
    """Record one real execution of ``name`` and return how many there were."""
    with _lock:
        CALLS[name] = CALLS.get(name, 0) + 1
        return CALLS[name]


@step
def source(n: int = 3) -> list[int]:
    count("source")
    return list(range(n))


@step
def inc(xs: list[int], by: int = 1) -> list[int]:
    count("inc")
    return [x + by for x in xs]


@step
def add_one(x: int) -> int:
    return x + 1


@step
def total(*parts: list[int]) -> int:
    count("total")
    return sum(sum(p) for p in parts)


@step
def split(xs: list[int]) -> tuple[list[int], list[int]]:
    half = len(xs) // 2
    return xs[:half], xs[half:]


@step
def boom(xs: list[int]) -> int:
    raise ValueError(f"bad input of length {len(xs)}")


@step(cache=False)
def wait_at(barrier: threading.Barrier, tag: str) -> str:
    barrier.wait()
    return tag


@step(cache=False)
def sleepy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@step(cache=False)
def pid() -> int:
    return os.getpid()
