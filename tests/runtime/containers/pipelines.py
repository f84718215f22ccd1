"""Pipelines the container tests run (copied into each test's project, imported there by the
step entrypoint inside the containers)."""

from __future__ import annotations

import os
import socket
import time

from flowyml import Pipeline, step


@step
def where() -> dict:
    print("inside the container")
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "marker": os.environ.get("FLOWYML_TEST_MARKER"),
    }


@step
def double(info: dict, factor: int = 2) -> int:
    print(f"doubling for {info['host']}")
    return len(info["host"]) * factor


@step
def explode(x: int) -> int:
    raise ValueError(f"bad input {x}")


@step(resources={"memory": "64Mi"})
def hog() -> int:
    block = bytearray(400 * 1024 * 1024)  # over a 64Mi limit
    return len(block)


@step(timeout=2)
def stuck() -> int:
    time.sleep(60)
    return 1


@step
def nap(seconds: float, tag: str) -> str:
    time.sleep(seconds)
    return tag


with Pipeline("dock_demo") as demo:
    double(where(), factor=3)

with Pipeline("dock_fail") as failing:
    explode(double(where()))

with Pipeline("dock_oom") as oom:
    hog()

with Pipeline("dock_timeout") as timeout:
    stuck()

with Pipeline("dock_parallel") as parallel:
    for i in range(4):
        nap(2.0, f"t{i}")

if os.environ.get("FLOWYML_TEST_MARKER"):
    # Inside the containers this module-level run must not start a pipeline (it is suppressed).
    demo.run()
