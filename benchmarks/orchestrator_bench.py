"""Orchestrator benchmarks (registered in ``run.py``), targets from issue 10.

- ``flowyml compile`` of a 50-step pipeline for a Kubeflow stack, whole process (code package
  uploaded, manifest written, KFP spec compiled, image planned): <= 1 s.
- Orchestrated overhead per step: the same 10-step chain run by ``kfp.local``'s
  ``SubprocessRunner`` (every task a process running the flowyml entrypoint in manifest mode,
  then recorded by flowyml) against flowyml's own loop on the local stack; the ratio is
  reported (no target), and the entrypoint's part, process start to the step call with its
  inputs loaded (``startup_s`` of each result record), must stay <= 0.3 s per step.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_STEPS = 50
_CHAIN = 10


def _pipeline_file(steps: int, name: str) -> str:
    lines = [
        "from flowyml import Pipeline, step",
        "",
        "@step",
        "def first() -> int:",
        "    return 1",
        "",
        "@step",
        "def inc(x: int) -> int:",
        "    return x + 1",
        "",
        f"with Pipeline({name!r}, enable_cache=False) as {name}:",
        "    value = first()",
        f"    for _ in range({steps - 1}):",
        "        value = inc(value)",
    ]
    return "\n".join(lines) + "\n"


def _project(root: Path) -> None:
    import yaml

    stack = {
        "type": "custom",
        "executor": {"kind": "local"},
        "orchestrator": {"kind": "kubeflow", "host": "http://127.0.0.1:9"},
        "artifact_store": {"kind": "local", "path": str(root / "artifacts")},
        "metadata_store": {"kind": "sqlite", "path": str(root / "metadata.db")},
        "container_registry": {"kind": "gcr", "uri": "gcr.io/my-project"},
        "docker": {"base_image": "local/python3:bookworm"},
    }
    (root / "flowyml.yaml").write_text(yaml.safe_dump({"stacks": {"kfp": stack}}))
    (root / "wide.py").write_text(_pipeline_file(_STEPS, "wide"))
    (root / "chain.py").write_text(_pipeline_file(_CHAIN, "chain"))


def _compile_row(root: Path, repeat: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "flowyml.cli",
        "compile",
        "wide.py:wide",
        "--stack",
        "kfp",
        "--output",
        str(root.parent / "wide.yaml"),
    ]
    env = dict(os.environ, FLOWYML_PROJECT_DIR=str(root))
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            return {
                "name": f"flowyml compile, {_STEPS} steps (whole process)",
                "value": float("nan"),
                "unit": "s",
                "target": 1.0,
                "detail": done.stderr.strip()[-200:],
            }
    return {
        "name": f"flowyml compile, {_STEPS} steps (whole process)",
        "value": statistics.median(times[1:]),
        "unit": "s",
        "target": 1.0,
        "detail": "KFP v2 spec for Kubeflow; first (cold) run not counted",
    }


def _overhead_rows(root: Path, repeat: int) -> list[dict[str, Any]]:
    from kfp import components, local

    from flowyml.cli.loader import load_pipeline
    from flowyml.runtime.binding import bind_stack
    from flowyml.runtime.orchestrators.driver import compile_pipeline
    from flowyml.runtime.orchestrators.kfp_spec import compile_spec
    from flowyml.runtime.orchestrators.record import sync_stack
    from flowyml.runtime.orchestrators.tasks import latest_result
    from flowyml.stacks.registry import resolve_stack

    os.environ["FLOWYML_PROJECT_DIR"] = str(root)
    os.chdir(root)
    declared = resolve_stack("kfp", None)
    bound = bind_stack(declared)
    pipeline = load_pipeline("chain.py:chain")
    compiled = compile_pipeline(pipeline, bound, root.parent / "chain.yaml", build=False)
    spec = compile_spec(
        compiled.manifest,
        compiled.manifest_uri,
        root.parent / "chain-local.yaml",
        target="kubeflow",
        local=True,
    )
    local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root.parent / "kfp")
    )
    component = components.load_component_from_file(str(spec))
    plain = declared.model_copy(update={"orchestrator": None})
    orchestrated, direct, startups = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            component(flowyml_run_id="")
        runs = sync_stack(bound)
        orchestrated.append(time.perf_counter() - t0)
        for run in runs:
            for step in run.steps:
                _, result, _ = latest_result(bound.artifact_store, "chain", run.run_id, step.name)
                if result is not None and result.startup_s is not None:
                    startups.append(result.startup_s)
        t0 = time.perf_counter()
        pipeline.run(stack=plain)
        direct.append(time.perf_counter() - t0)
    per_step = (statistics.median(orchestrated) - statistics.median(direct)) / _CHAIN
    return [
        {
            "name": f"kfp.local SubprocessRunner / local stack ({_CHAIN}-step chain)",
            "value": statistics.median(orchestrated) / statistics.median(direct),
            "unit": "x",
            "target": None,
            "detail": f"{per_step:.2f} s extra per step (kfp.local's own task handling included)",
        },
        {
            "name": "orchestrated task: entrypoint start-up per step",
            "value": statistics.median(startups) if startups else float("nan"),
            "unit": "s",
            "target": 0.3,
            "detail": "process start to the step call, inputs loaded (result records)",
        },
    ]


def rows(repeat: int) -> list[dict[str, Any]]:
    """The benchmark rows (``repeat`` measured runs each)."""
    try:
        import kfp  # noqa: F401
    except ImportError:
        return [
            {
                "name": "orchestrators",
                "value": float("nan"),
                "unit": "",
                "target": None,
                "detail": "kfp is not installed (pip install 'flowyml[kfp]')",
            }
        ]
    root = Path(tempfile.mkdtemp(prefix="flowyml-bench-orch-")) / "project"
    root.mkdir()
    _project(root)
    here = Path.cwd()
    try:
        return [_compile_row(root, repeat), *_overhead_rows(root, max(1, repeat // 2))]
    finally:
        os.chdir(here)


if __name__ == "__main__":
    for row in rows(3):
        print(row)
