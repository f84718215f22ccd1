"""Guardrail benchmarks (registered in ``run.py``): ``flowyml stack check`` as whole processes.

In a copy of this repository's stacks, with the offline evaluation cache warm (primed once):
``production`` needs no placeholder evaluation (its rules read only known inputs), ``aws-prod``
does (its role policies embed ARNs known only after apply, so the program runs once more under
mocks with placeholder ids). No target comes from an issue: the numbers say what a check adds
to a preview.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _wall(cmd: list[str], repeat: int, cwd: Path, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - began)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return times


def rows(repeat: int) -> list[dict[str, Any]]:
    """Benchmark rows: ``name``, ``value``, ``unit``, ``target``, ``detail``."""
    out = []
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-check-") as tmp:
        project = Path(tmp)
        (project / "flowyml.yaml").write_text("")
        shutil.copytree(REPO / "stacks", project / "stacks")
        env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project), "FLOWYML_PASSPHRASE": "bench"}
        env.pop("FLOWYML_NO_CACHE", None)
        for stack, why in (
            ("production", "no placeholder evaluation"),
            ("aws-prod", "one placeholder evaluation of the program"),
        ):
            cmd = [sys.executable, "-m", "flowyml.cli", "stack", "check", stack]
            _wall(cmd, 1, project, env)  # prime the evaluation cache
            times = _wall(cmd, repeat, project, env)
            out.append(
                {
                    "name": f"`stack check {stack}`, warm",
                    "value": statistics.median(times),
                    "unit": "s",
                    "target": None,
                    "detail": f"median of {repeat}; min {min(times):.3f} s; whole process; {why}",
                }
            )
    return out
