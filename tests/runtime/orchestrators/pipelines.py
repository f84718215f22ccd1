"""Pipelines the orchestrator tests compile and run (copied into each test's project, where the
step entrypoint imports them in every orchestrator task)."""

from __future__ import annotations

import os
from pathlib import Path

from flowyml import Pipeline, step
from flowyml.stacks.components import ResourceConfig


@step
def load() -> list[int]:
    print("loading ten numbers")
    return list(range(10))


@step(retries=2, timeout=30, resources=ResourceConfig(cpu="2", memory="4Gi"))
def total(xs: list[int]) -> int:
    return sum(xs)


@step(resources=ResourceConfig(cpu="4", memory="16Gi", gpu="nvidia-tesla-t4", gpu_count=1))
def scale(xs: list[int], factor: int = 3) -> list[int]:
    return [x * factor for x in xs]


@step
def report(count: int, scaled: list[int]) -> dict:
    return {"total": count, "scaled_max": max(scaled), "pid": os.getpid()}


with Pipeline("orchestrated", enable_cache=False) as orchestrated:
    xs = load()
    report(total(xs), scale(xs, factor=5))


@step(retries=1)
def flaky(marker: str) -> str:
    """Fails on its first attempt (no marker yet), succeeds on the retry."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried once", encoding="utf-8")
        raise RuntimeError("first attempt fails on purpose")
    return "second attempt worked"


@step
def explode(x: list[int]) -> int:
    raise ValueError(f"bad input {len(x)}")


with Pipeline("failing", enable_cache=False) as failing:
    nums = load()
    report(explode(nums), scale(nums))


with Pipeline("cached", enable_cache=True) as cached:
    total(load())


@step(timeout=1)
def stuck() -> int:
    import time

    time.sleep(20)
    return 0


with Pipeline("timing_out", enable_cache=False) as timing_out:
    stuck()
