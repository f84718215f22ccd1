"""The budget gate through the CLI: its own exit code (3) and the overage, on preview and up.

``preview`` runs as a real process on a copy of the repo's stacks (offline planner). ``up`` needs
an engine that can apply, and no Pulumi CLI can be installed here, so ``up`` gets a stand-in
engine whose preview returns a priced-able plan and whose ``up`` fails the test if reached:
the gate must stop before anything is applied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from flowyml.core.plan import CREATE, Plan, ResourceChange

REPO = Path(__file__).resolve().parents[2]
SQL = "gcp:sql/databaseInstance:DatabaseInstance"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flowyml.yaml").write_text("")
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def _flowyml(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _flowyml_env(project, {}, *args)


def test_preview_over_the_flag_exits_3_and_says_by_how_much(project: Path) -> None:
    result = _flowyml(
        project, "stack", "preview", "production", "--offline", "--max-monthly-cost", "5"
    )
    assert result.returncode == 3, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    # db-f1-micro $7.665 + 10 GB SSD $1.70 = $9.37 (rounded), $4.37 over
    assert len(error) == 1
    assert "$9.37" in error[0] and "$5.00" in error[0] and "by $4.37" in error[0]
    assert "Monthly cost:" in result.stdout  # the plan is still shown


def test_stack_budget_field_gates_preview(project: Path) -> None:
    path = project / "stacks" / "production.yaml"
    path.write_text(path.read_text() + "budget: 8\n")
    over = _flowyml(project, "stack", "preview", "production", "--offline")
    assert over.returncode == 3 and "by $1.37" in over.stderr
    flag_wins = _flowyml(
        project, "stack", "preview", "production", "--offline", "--max-monthly-cost", "10"
    )
    assert flag_wins.returncode == 0, flag_wins.stderr


def test_usage_file_in_the_project_or_named_counts_towards_the_gate(project: Path) -> None:
    usage = project / "usage.yaml"
    usage.write_text("resources:\n  artifacts: {storage_gb: 100}\n")  # +$2.00 of GCS Standard
    under = _flowyml(
        project, "stack", "preview", "production", "--offline", "--max-monthly-cost", "10"
    )
    assert under.returncode == 0, under.stderr
    over = _flowyml(
        project,
        "stack",
        "preview",
        "production",
        "--offline",
        "--max-monthly-cost",
        "10",
        "--usage",
        str(usage),
    )
    assert over.returncode == 3 and "$11.37" in over.stderr


class _NoApplyEngine:
    """Previews a one-database plan; applying is a test failure.

    Stands in for the Pulumi engine that ``stack up`` picks for a cloud stack: the real one
    needs the Pulumi CLI, which cannot be installed here (the offline planner only previews).
    """

    def preview(self, stack: Any) -> Plan:
        after = {"region": "us-central1", "settings": {"tier": "db-g1-small", "diskSize": 10}}
        return Plan(
            stack.name,
            "preview",
            "stand-in",
            (ResourceChange(f"{SQL}::db", SQL, "db", CREATE, after=after),),
        )

    def up(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("the budget gate let `up` apply a plan over budget")


def test_up_over_budget_exits_3_before_applying(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import flowyml.provision.select as select
    from flowyml.cli.main import main

    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    stand_in = SimpleNamespace(engine=_NoApplyEngine(), note=None)
    monkeypatch.setattr(select, "engine_for", lambda *_a, **_k: stand_in)
    with pytest.raises(SystemExit) as exit_info:
        main(["stack", "up", "production", "--yes", "--max-monthly-cost", "20"])
    assert exit_info.value.code == 3
    # db-g1-small $0.035 x 730 = $25.55, + 10 GB SSD $1.70 = $27.25: $7.25 over $20
    assert "$27.25" in capsys.readouterr().err.split("Error:")[-1]


def test_project_usage_file_is_read_without_the_flag(project: Path) -> None:
    (project / "flowyml-usage.yaml").write_text("resources:\n  artifacts: {storage_gb: 100}\n")
    result = _flowyml(
        project, "stack", "preview", "production", "--offline", "--max-monthly-cost", "10"
    )
    assert result.returncode == 3 and "$11.37" in result.stderr


def test_unpriced_resources_fail_the_gate_closed_unless_allowed(project: Path) -> None:
    """europe-west2 is a real region the catalog has no prices for: the database, bucket and
    registry are "not priced", the priced total is $0, and a $1 budget used to pass."""
    env = {"GCP_REGION": "europe-west2"}
    closed = _flowyml_env(
        project, env, "stack", "preview", "production", "--offline", "--max-monthly-cost", "1"
    )
    assert closed.returncode == 3, closed.stderr
    (error,) = [line for line in closed.stderr.splitlines() if line.startswith("Error:")]
    assert "cannot be checked: 3 resource(s) are not priced" in error
    for name in ("metadata (region europe-west2", "artifacts (", "registry ("):
        assert name in error
    assert "--allow-unpriced" in error
    allowed = _flowyml_env(
        project,
        env,
        "stack",
        "preview",
        "production",
        "--offline",
        "--max-monthly-cost",
        "1",
        "--allow-unpriced",
    )
    assert allowed.returncode == 0, allowed.stderr


class _UnpricedNoApplyEngine(_NoApplyEngine):
    """As :class:`_NoApplyEngine`, with a tier the catalog does not know (a typo)."""

    def preview(self, stack: Any) -> Plan:
        after = {"region": "us-central1", "settings": {"tier": "db-g1-smal", "diskSize": 10}}
        return Plan(
            stack.name,
            "preview",
            "stand-in",
            (ResourceChange(f"{SQL}::db", SQL, "db", CREATE, after=after),),
        )


def test_up_with_an_unpriced_resource_exits_3_before_applying(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import flowyml.provision.select as select
    from flowyml.cli.main import main

    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    stand_in = SimpleNamespace(engine=_UnpricedNoApplyEngine(), note=None)
    monkeypatch.setattr(select, "engine_for", lambda *_a, **_k: stand_in)
    with pytest.raises(SystemExit) as exit_info:
        main(["stack", "up", "production", "--yes", "--max-monthly-cost", "1000"])
    assert exit_info.value.code == 3
    error = capsys.readouterr().err.split("Error:")[-1]
    assert "not priced" in error and "db (" in error


def _flowyml_env(
    project: Path, extra: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWYML_", "GCP_"))}
    env.update({"FLOWYML_PROJECT_DIR": str(project), **extra})
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
