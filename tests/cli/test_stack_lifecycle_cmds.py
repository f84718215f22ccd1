"""`flowyml stack preview|up|destroy|refresh|outputs` as real processes on a throwaway project.

Nothing is mocked: the local stack is provisioned for real, cloud previews run the real programs
under Pulumi's mocks (the only engine that can exist here: no Pulumi CLI can be installed).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flowyml.provision.pulumi_engine import pulumi_cli_available
from flowyml.provision.state import stack_lock

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flowyml.yaml").write_text("")
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def _env(project: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWYML_", "PULUMI_", "GCP_"))}
    env.update(
        {"FLOWYML_PROJECT_DIR": str(project), "FLOWYML_PASSPHRASE": "test-passphrase", **extra}
    )
    return env


def _start(project: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowyml.cli", "stack", *args],
        cwd=project,
        env=_env(project, **extra),
        stdin=subprocess.DEVNULL,  # no terminal: prompts must refuse, never hang
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    proc = _start(project, *args, **extra)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_up_without_terminal_or_yes_refuses_in_one_line(project: Path) -> None:
    result = _run(project, "up", "local")
    assert result.returncode == 1
    (line,) = _error_lines(result)
    assert "without confirmation" in line and "--yes" in line
    assert "+ artifacts" in result.stdout  # the plan was shown first
    assert not (project / ".flowyml" / "metadata.db").exists()


def test_up_outputs_destroy_up_again(project: Path) -> None:
    up = _run(project, "up", "local", "--yes")
    assert up.returncode == 0, up.stderr
    assert "Stack local is up: 2 created" in up.stdout
    out = _run(project, "outputs", "local", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["outputs"]["metadata_url"] == f"sqlite:///{project / '.flowyml' / 'metadata.db'}"

    again = _run(project, "up", "local")  # nothing to change: no confirmation needed
    assert again.returncode == 0, again.stderr
    assert "0 created" in again.stdout

    refused = _run(project, "destroy", "local")
    assert refused.returncode == 1 and len(_error_lines(refused)) == 1
    assert (project / ".flowyml" / "metadata.db").exists()

    destroyed = _run(project, "destroy", "local", "--yes")
    assert destroyed.returncode == 0, destroyed.stderr
    assert destroyed.stdout.count("[DATA: its contents are lost]") == 2
    assert "every recorded run" in destroyed.stderr
    assert not (project / ".flowyml" / "metadata.db").exists()

    missing = _run(project, "outputs", "local")
    assert missing.returncode == 1
    (line,) = _error_lines(missing)
    assert "flowyml stack up local" in line

    assert _run(project, "up", "local", "--yes").returncode == 0


def test_two_concurrent_ups_wait_or_fail_cleanly(project: Path) -> None:
    first = _start(project, "up", "local", "--yes")
    second = _start(project, "up", "local", "--yes")
    results = [(p.wait(timeout=120), *p.communicate()) for p in (first, second)]
    for code, _out, err in results:
        assert code == 0 or (code == 1 and "is locked by another update" in err), err
    assert any(code == 0 for code, _o, _e in results)
    db = project / ".flowyml" / "metadata.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    outputs = json.loads((project / ".flowyml" / "stacks" / "local" / "outputs.json").read_text())
    assert outputs["stack"] == "local"


def test_a_held_lock_fails_in_one_line_after_the_timeout(project: Path) -> None:
    with stack_lock("local", "destroy", root=project / ".flowyml"):
        result = _run(project, "up", "local", "--yes", FLOWYML_LOCK_TIMEOUT="0.3")
    assert result.returncode == 1
    (line,) = _error_lines(result)
    assert "stack local is locked by another update" in line
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(pulumi_cli_available(), reason="the Pulumi CLI is installed here")
@pytest.mark.parametrize("command", ["up", "destroy", "refresh"])
def test_cloud_lifecycle_without_pulumi_is_one_line(project: Path, command: str) -> None:
    args = (command, "production") if command == "refresh" else (command, "production", "--yes")
    result = _run(project, *args)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Pulumi CLI is not installed" in result.stderr
    assert "flowyml stack preview production --offline" in result.stderr


def test_offline_preview_json_and_budget_gate(project: Path) -> None:
    result = _run(project, "preview", "production", "--offline", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["engine"] == "offline" and plan["operation"] == "preview"
    types = {c["type"] for c in plan["resource_changes"]}
    assert "gcp:sql/databaseInstance:DatabaseInstance" in types
    assert all(c["actions"] == ["create"] for c in plan["resource_changes"])
    assert "Sup3r" not in result.stdout
    # The password is generated under mocks; wherever it appears it is masked.
    for change in plan["resource_changes"]:
        for key in change["sensitive"]:
            assert change["after"][key] == "[secret]"

    over = _run(project, "preview", "production", "--offline", "--max-monthly-cost", "1")
    assert over.returncode == 3
    assert len(_error_lines(over)) == 1


@pytest.mark.skipif(pulumi_cli_available(), reason="the Pulumi CLI is installed here")
def test_cloud_preview_without_pulumi_falls_back_offline_with_a_note(project: Path) -> None:
    result = _run(project, "preview", "production", "--markdown")
    assert result.returncode == 0, result.stderr
    assert "previewing offline" in result.stderr
    assert "production" in result.stdout
