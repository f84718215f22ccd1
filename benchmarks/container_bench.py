"""Container executor benchmarks (registered in ``run.py``), targets from issue 8.

- Container step overhead: a trivial step on ``DockerExecutor`` (task written, container
  created, started, waited for, result read, container removed) against a bare
  ``docker run --rm IMAGE python3 -c pass`` of the same image in the same process: ratio <= 1.5.
- Entrypoint start-up: process start to the step function called, inputs loaded, as the
  entrypoint records it in the step's result (``startup_s``): <= 0.3 s.
- 8 independent ``sleep(1)`` steps on ``DockerExecutor(max_workers=8)`` against one such step:
  ratio <= 2.
- A 1-step pipeline run on the local stack, whole process: <= 0.25 s.

Needs the Docker test environment (`bash .ci/docker.sh`); without it the rows say so.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE = "local/python3:bookworm"

_PIPELINES = """\
import time
from flowyml import Pipeline, step

@step
def nothing() -> int:
    return 1

@step
def consume(x: int) -> int:
    return x + 1

@step(cache=False)
def nap(i: int) -> int:
    time.sleep(1)
    return i

with Pipeline("bench_trivial", enable_cache=False) as trivial:
    consume(nothing())

with Pipeline("bench_one_nap", enable_cache=False) as one_nap:
    nap(0)

with Pipeline("bench_eight_naps", enable_cache=False) as eight_naps:
    for i in range(8):
        nap(i)
"""


def _skipped(reason: str) -> list[dict[str, Any]]:
    names = (
        "container step overhead / bare `docker run`",
        "entrypoint start-up (to the step call, inputs loaded)",
        "8 x sleep(1) on DockerExecutor(max_workers=8) / one",
    )
    return [
        {"name": n, "value": float("nan"), "unit": "", "target": None, "detail": reason}
        for n in names
    ]


def _docker_rows(repeat: int) -> list[dict[str, Any]]:
    try:
        import docker

        client = docker.from_env()
        client.ping()
        client.images.get(BASE)
    except Exception as exc:
        return _skipped(f"Docker test environment missing: {type(exc).__name__}")
    from flowyml.cli.loader import load_pipeline
    from flowyml.launch import bind_for_run
    from flowyml.pipeline.runner import run_pipeline
    from flowyml.runtime.tasks import StepResult
    from flowyml.stacks import Stack
    from flowyml.stacks.components import DockerConfig, DockerExecutor, SQLiteMetadataStore

    root = Path(tempfile.mkdtemp(prefix="flowyml-bench-containers-"))
    (root / "flowyml.yaml").write_text("stacks: {}\n")
    (root / "bench_pipelines.py").write_text(_PIPELINES)
    os.environ["FLOWYML_PROJECT_DIR"] = str(root)
    os.chdir(root)
    stack = Stack(
        "bench-docker",
        executor=DockerExecutor(max_workers=8),
        artifact_store={"kind": "local", "path": str(root / "artifacts")},
        metadata_store=SQLiteMetadataStore(path=str(root / "metadata.db")),
        docker=DockerConfig(base_image=BASE),
    )
    trivial = load_pipeline("bench_pipelines.py:bench_trivial")
    runtime, _ = bind_for_run(trivial, stack)  # builds the image once, uploads the code
    image = runtime.submission.image
    run_pipeline(trivial, runtime)  # warm-up: page cache, code cache

    bare: list[float] = []
    step: list[float] = []
    startup: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.containers.run(image, ["python3", "-c", "pass"], remove=True, network_mode="host")
        bare.append(time.perf_counter() - t0)
        result = run_pipeline(trivial, runtime)
        record = result.steps["consume"]  # the step with an input to load
        assert record.duration is not None, result.error
        step.append(record.duration)
        raw = runtime.artifact_store.get_bytes(
            runtime.artifact_store.uri_of(
                f"bench_trivial/{result.run_id}/consume/_attempts/1/result.json"
            )
        )
        startup.append(StepResult.from_json(raw).startup_s or float("nan"))
    ratio = statistics.median(step) / statistics.median(bare)

    one = load_pipeline("bench_pipelines.py:bench_one_nap")
    eight = load_pipeline("bench_pipelines.py:bench_eight_naps")
    one_rt, _ = bind_for_run(one, stack)
    eight_rt, _ = bind_for_run(eight, stack)
    singles, eights = [], []
    for _ in range(max(1, repeat // 2)):
        t0 = time.perf_counter()
        run_pipeline(one, one_rt)
        singles.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        done = run_pipeline(eight, eight_rt)
        eights.append(time.perf_counter() - t0)
        assert done.status.value == "completed", done.error
    fan = statistics.median(eights) / statistics.median(singles)
    return [
        {
            "name": "container step overhead / bare `docker run`",
            "value": ratio,
            "unit": "x",
            "target": 1.5,
            "detail": f"step {statistics.median(step):.3f} s vs docker run "
            f"{statistics.median(bare):.3f} s (medians of {repeat})",
        },
        {
            "name": "entrypoint start-up (to the step call, inputs loaded)",
            "value": statistics.median(startup),
            "unit": "s",
            "target": 0.3,
            "detail": f"inside the container, median of {repeat}",
        },
        {
            "name": "8 x sleep(1) on DockerExecutor(max_workers=8) / one",
            "value": fan,
            "unit": "x",
            "target": 2.0,
            "detail": f"8 steps {statistics.median(eights):.2f} s, one {statistics.median(singles):.2f} s",
        },
    ]


_ONE_STEP = """\
from flowyml import Pipeline, step
from flowyml.stacks import LocalStack

@step(cache=False)
def one() -> int:
    return 1

with Pipeline("bench_one_step", enable_cache=False) as p:
    one()
p.run(stack=LocalStack(artifact_path="a", metadata_path="m.db"))
"""


def _one_step_process(repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-one-") as tmp:
        script = Path(tmp) / "one.py"
        script.write_text(_ONE_STEP)
        env = {**os.environ, "FLOWYML_PROJECT_DIR": tmp}
        subprocess.run([sys.executable, str(script)], cwd=tmp, env=env, check=True)  # migrate
        times = []
        for _ in range(repeat * 2):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(script)], cwd=tmp, env=env, check=True)
            times.append(time.perf_counter() - t0)
    interpreter = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        interpreter.append(time.perf_counter() - t0)
    return {
        "name": "1-step pipeline run, whole process (local stack)",
        "value": statistics.median(times),
        "unit": "s",
        "target": 0.25,
        "detail": f"median of {len(times)}; bare interpreter {statistics.median(interpreter):.3f} s",
    }


def rows(repeat: int) -> list[dict[str, Any]]:
    """Benchmark rows: ``name``, ``value``, ``unit``, ``target``, ``detail``."""
    cwd = os.getcwd()
    project = os.environ.get("FLOWYML_PROJECT_DIR")
    try:
        found = [_one_step_process(repeat), *_docker_rows(repeat)]
    finally:
        os.chdir(cwd)
        if project is None:
            os.environ.pop("FLOWYML_PROJECT_DIR", None)
        else:
            os.environ["FLOWYML_PROJECT_DIR"] = project
    return found


if __name__ == "__main__":
    for row in rows(3):
        print(json.dumps(row))
