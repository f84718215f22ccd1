"""Pipelines the Kubernetes tests run (copied into each test's project, imported there by the
step entrypoint inside the pods)."""

from __future__ import annotations

import os
import socket
import time

from flowyml import Pipeline, step
from flowyml.stacks.components import ResourceConfig


@step
def where() -> dict:
    print("inside the pod")
    return {"host": socket.gethostname(), "uid": os.getuid(), "home": os.environ.get("HOME")}


@step(resources=ResourceConfig(cpu="500m", memory="256Mi"))
def double(info: dict, factor: int = 2) -> int:
    print(f"doubling for {info['host']}")
    return len(info["host"]) * factor


@step(resources=ResourceConfig(memory="64Mi"))
def hog() -> int:
    block = bytearray(400 * 1024 * 1024)  # over its 64Mi limit
    return len(block)


@step(timeout=2)
def stuck() -> int:
    time.sleep(60)
    return 1


@step(resources=ResourceConfig(gpu="nvidia-tesla-t4", gpu_count=1))
def train() -> int:
    return 1


@step
def nap(seconds: float, tag: str) -> str:
    time.sleep(seconds)
    return tag


@step(retries=1, retry_delay=0.1)
def on_spot() -> str:
    return socket.gethostname()


with Pipeline("k8s_demo") as demo:
    double(where(), factor=3)

with Pipeline("k8s_oom") as oom:
    hog()

with Pipeline("k8s_deadline") as deadline:
    stuck()

with Pipeline("k8s_gpu") as gpu:
    train()

with Pipeline("k8s_long") as long:
    nap(60.0, "long")

with Pipeline("k8s_spot") as spot:
    on_spot()


@step(resources=ResourceConfig(cpu="4", memory="15Gi", preemptible=True))
def fit(info: dict) -> str:
    print(f"fitting on {info['host']}")
    return "model"


@step
def broken() -> int:
    raise ValueError("bad data in the bucket")


with Pipeline("vertex_demo") as vertex_demo:
    fit(where())

with Pipeline("vertex_fail") as vertex_fail:
    broken()
