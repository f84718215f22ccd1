"""Pipeline files the dashboard tests run for real (``flowyml run FILE`` in a tmp project)."""

from __future__ import annotations

OK = """
import os

import numpy as np
import pandas as pd

from flowyml import pipeline, step


@step
def load(n: int) -> list[int]:
    print(f"loading {n} numbers")
    return list(range(n))


@step
def frame(xs: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"x": xs, "square": [x * x for x in xs]})


@step
def matrix(xs: list[int]) -> np.ndarray:
    return np.arange(12, dtype="float32").reshape(3, 4)


@step
def report(df: pd.DataFrame, m: np.ndarray) -> dict:
    # A step that prints a secret by mistake: the dashboard must not show it.
    print("report ready; connecting with", os.environ.get("UI_TEST_PASSWORD", "nothing"))
    return {"rows": len(df), "total": float(m.sum())}


@pipeline
def demo(n: int = 10):
    xs = load(n)
    report(frame(xs), matrix(xs))
"""

FAILING = """
from flowyml import Pipeline, step


@step
def prepare() -> int:
    return 3


@step
def explode(n: int) -> int:
    print("about to fail")
    raise ValueError(f"bad value {n}")


@step
def after(n: int) -> int:
    return n


with Pipeline("failing") as pipeline:
    after(explode(prepare()))
"""

# Waits for a file to appear before each step finishes, so a test controls when it moves on.
GATED = """
import os
import time
from pathlib import Path

from flowyml import Pipeline, step

GATE = Path(os.environ["UI_TEST_GATE"])


def wait(name: str) -> None:
    deadline = time.monotonic() + 60
    while not (GATE / name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {name} never opened")
        time.sleep(0.05)


@step(cache=False)
def first() -> int:
    wait("first")
    return 1


@step(cache=False)
def second(x: int) -> int:
    wait("second")
    return x + 1


with Pipeline("gated", enable_cache=False) as pipeline:
    second(first())
"""
