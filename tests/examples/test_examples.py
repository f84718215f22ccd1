"""Every example in examples/ run as the docs say: real processes in a temporary project."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "FLOWYML_PROJECT_DIR": str(project), **env}
    for name in ("FLOWYML_STACK", "ENVIRONMENT", "FLOWYML_HYBRID_CLOUD"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=environ, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def flowyml_run(project: Path, example: str, *args: str, **env: str) -> dict:
    done = run(project, "-m", "flowyml.cli", "run", str(EXAMPLES / example), *args, "--json", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def steps(record: dict) -> dict[str, dict]:
    return {s["name"]: s for s in record["steps"]}


needs_data = pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None or importlib.util.find_spec("pyarrow") is None,
    reason="pandas and pyarrow are not installed (pip install -e '.[data]')",
)


@needs_data
def test_training_pipeline_learns_caches_and_reports_metrics(tmp_path: Path) -> None:
    first = flowyml_run(tmp_path, "training.py")
    assert first["status"] == "completed"
    assert list(steps(first)) == ["load", "split", "train", "evaluate"]
    assert steps(first)["load"]["outputs"]["output"]["materializer"] == "pandas"
    assert steps(first)["train"]["outputs"]["output"]["materializer"] == "numpy"
    shown = run(tmp_path, "-m", "flowyml.cli", "runs", "show", first["run_id"])
    evaluate = next(line for line in shown.stdout.splitlines() if line.startswith("evaluate"))
    r2 = float(evaluate.split("r2=")[1].split(",")[0])
    assert r2 > 0.9  # the model explains the synthetic prices
    assert "load (DataFrame 2000x5), first rows:" in shown.stdout
    second = flowyml_run(tmp_path, "training.py", "--param", "alpha=100")
    cached = {name: s["cached"] for name, s in steps(second).items()}
    assert cached == {"load": True, "split": True, "train": False, "evaluate": False}
    assert second["params"]["alpha"] == 100.0


def test_hybrid_example_moves_data_between_two_stores(tmp_path: Path) -> None:
    record = flowyml_run(tmp_path, "hybrid.py")
    assert record["status"] == "completed"
    by_name = steps(record)
    assert by_name["train"]["stack"] == "trainer" and by_name["evaluate"]["stack"] == "local"
    trainer = tmp_path / ".flowyml" / "trainer" / "artifacts" / "hybrid" / record["run_id"]
    assert (trainer / "train").is_dir()  # train's output is saved in the trainer's own store
    assert by_name["train"]["outputs"]["output"]["uri"].startswith(trainer.as_uri())
    shown = run(tmp_path, "-m", "flowyml.cli", "runs", "show", record["run_id"])
    assert "{slope=3, intercept=1}" in shown.stdout


def test_hybrid_example_on_the_cloud_refuses_before_running(tmp_path: Path) -> None:
    done = run(
        tmp_path, "-m", "flowyml.cli", "run", str(EXAMPLES / "hybrid.py"), FLOWYML_HYBRID_CLOUD="1"
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: stack production has not been provisioned. To fix: run `flowyml stack up production`"
    ]
    listed = run(tmp_path, "-m", "flowyml.cli", "runs", "list", "--json")
    assert json.loads(listed.stdout) == []


needs_pulumi = pytest.mark.skipif(
    importlib.util.find_spec("pulumi_gcp") is None,
    reason="pulumi and pulumi-gcp are not installed (pip install -e '.[gcp]')",
)


@needs_pulumi
def test_production_walkthrough_validates_previews_and_checks_the_budget(tmp_path: Path) -> None:
    done = run(tmp_path, str(EXAMPLES / "production.py"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2. Validate (no credentials needed): 0 problem(s)." in out
    # The type token is shortened to fit the width (gcp:sql.DatabaseInstance, gcp:DatabaseInstance).
    assert "DatabaseInstance" in out and "to create" in out
    assert "Monthly cost: $0.00 -> $" in out
    assert "Within budget" in out and "flowyml stack up production" in out
    assert "\x1b[" not in out  # piped: plain text
    over = run(tmp_path, str(EXAMPLES / "production.py"), PRODUCTION_BUDGET_USD="1")
    assert over.returncode == 1 and "Over budget" in over.stdout


def test_quickstart_runs_with_python_too(tmp_path: Path) -> None:
    done = run(tmp_path, str(EXAMPLES / "quickstart.py"))
    assert done.returncode == 0, done.stderr
    assert "metrics: {'accuracy':" in done.stdout
