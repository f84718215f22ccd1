"""Saved plans: ``stack preview NAME --out FILE`` then ``stack up NAME --plan FILE``.

The local stack is applied for real. A cloud stack's ``up`` needs the Pulumi CLI, which cannot
be installed here: its refusals (stale plan, other stack, unreadable file) are checked for real,
since they come before any engine; a fresh plan then reaches the engine and stops at "Pulumi CLI
is not installed". The Pulumi engine's re-check under the lock is tested with a stand-in
workspace (the real one drives the CLI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowyml.provision.pulumi_engine import pulumi_cli_available

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flowyml.yaml").write_text("")
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def _run(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWYML_", "PULUMI_", "GCP_"))}
    env.update({"FLOWYML_PROJECT_DIR": str(project), "FLOWYML_PASSPHRASE": "pp", **extra})
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", "stack", *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _error(result: subprocess.CompletedProcess[str]) -> str:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return line


def test_a_saved_local_plan_applies_without_asking_then_is_stale(project: Path) -> None:
    saved = _run(project, "preview", "local", "--out", "plan.json")
    assert saved.returncode == 0, saved.stderr
    document = json.loads((project / "plan.json").read_text())
    assert document["kind"] == "flowyml-saved-plan" and document["stack"] == "local"
    assert set(document["fingerprints"]) == {"declaration", "programs", "state"}
    assert document["plan"]["summary"]["create"] == 2
    assert (project / "plan.json").stat().st_mode & 0o777 == 0o600
    assert not (project / ".flowyml" / "metadata.db").exists()  # preview touched nothing

    # No terminal and no --yes: a saved plan is the approval, as `terraform apply PLANFILE`.
    applied = _run(project, "up", "local", "--plan", "plan.json")
    assert applied.returncode == 0, applied.stderr
    assert "Stack local is up: 2 created" in applied.stdout
    assert (project / ".flowyml" / "metadata.db").is_file()

    again = _run(project, "up", "local", "--plan", "plan.json")
    assert again.returncode == 1
    line = _error(again)
    assert "stale: its recorded state changed" in line and "nothing was applied" in line
    assert "flowyml stack preview local --out plan.json" in line


def test_a_changed_declaration_refuses_the_plan(project: Path) -> None:
    assert _run(project, "preview", "local", "--out", "plan.json").returncode == 0
    declared = project / "stacks" / "local.yaml"
    declared.write_text(declared.read_text().replace(".flowyml/artifacts", ".flowyml/other"))
    refused = _run(project, "up", "local", "--plan", "plan.json")
    assert refused.returncode == 1
    assert "stale: its declaration changed" in _error(refused)
    assert not (project / ".flowyml" / "other").exists()
    assert not (project / ".flowyml" / "metadata.db").exists()


def test_changed_programs_refuse_the_plan(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """flowyml upgraded between preview and up: the programs that build the resources differ.
    (Simulated by the version the fingerprint reads; rewriting the installed sources is not
    something a test may do.)"""
    from click.testing import CliRunner

    from flowyml.cli.stack_lifecycle_cmds import preview_cmd, up_cmd
    from flowyml.provision import saved_plan

    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    plan = project / "plan.json"
    assert CliRunner().invoke(preview_cmd, ["local", "--out", str(plan)]).exit_code == 0
    monkeypatch.setattr(saved_plan, "__version__", "999.0")
    result = CliRunner().invoke(up_cmd, ["local", "--plan", str(plan)])
    assert result.exit_code == 1
    assert "stale: the programs changed" in str(result.exception)
    assert not (project / ".flowyml" / "metadata.db").exists()


def test_a_plan_for_another_stack_or_a_broken_file_is_refused(project: Path) -> None:
    assert _run(project, "preview", "local", "--out", "plan.json").returncode == 0
    other = _run(project, "up", "production", "--plan", "plan.json")
    assert other.returncode == 1
    assert "plan.json is a plan for stack local, not production" in _error(other)
    (project / "junk.json").write_text("{not json")
    junk = _run(project, "up", "local", "--plan", "junk.json")
    assert junk.returncode == 1 and "cannot read the saved plan junk.json" in _error(junk)
    (project / "foreign.json").write_text(json.dumps({"format_version": "1.0"}))
    foreign = _run(project, "up", "local", "--plan", "foreign.json")
    assert "not a flowyml saved plan" in _error(foreign)


def _write_checkpoint(project: Path, resources: list[dict[str, object]]) -> None:
    path = project / ".flowyml/pulumi/.pulumi/stacks/flowyml/production.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"checkpoint": {"latest": {"resources": resources}}}))


@pytest.mark.skipif(pulumi_cli_available(), reason="the Pulumi CLI is installed here")
def test_cloud_saved_plan_refusals_come_before_the_engine(project: Path) -> None:
    saved = _run(project, "preview", "production", "--offline", "--out", "plan.json")
    assert saved.returncode == 0, saved.stderr
    plan = json.loads((project / "plan.json").read_text())["plan"]
    assert plan["engine"] == "offline"
    masked = [c for c in plan["resource_changes"] if c["sensitive"]]
    assert masked  # the database user's password
    for change in masked:
        for key in change["sensitive"]:
            assert change["after"][key] == "[secret]"

    moved = _run(project, "up", "production", "--plan", "plan.json", GCP_BUCKET="other-bucket")
    assert moved.returncode == 1 and "stale: its declaration changed" in _error(moved)

    # Fresh: the plan is accepted, and the engine (not the plan) is what is missing here.
    fresh = _run(project, "up", "production", "--plan", "plan.json")
    assert fresh.returncode == 1 and "Pulumi CLI is not installed" in _error(fresh)

    # Someone ran `pulumi up` meanwhile: the checkpoint the plan was diffed against changed.
    _write_checkpoint(
        project, [{"urn": "urn:pulumi:production::flowyml::x:y:Z::a", "type": "x:y:Z"}]
    )
    raced = _run(project, "up", "production", "--plan", "plan.json")
    assert raced.returncode == 1 and "stale: its recorded state changed" in _error(raced)


def test_a_remote_backend_cannot_be_saved_offline(project: Path) -> None:
    declared = project / "stacks" / "production.yaml"
    declared.write_text(declared.read_text() + "backend: gs://my-state-bucket\n")
    result = _run(project, "preview", "production", "--offline", "--out", "plan.json")
    assert result.returncode == 1
    assert "keeps its state in gs://my-state-bucket" in _error(result)
    assert not (project / "plan.json").exists()


def test_the_local_engine_checks_the_precondition_under_its_lock(project: Path) -> None:
    """What a concurrent change between the CLI's check and the apply meets: the re-check runs
    holding the lock, and raising there changes nothing."""
    from flowyml.provision.errors import SavedPlanError
    from flowyml.provision.local_engine import LocalEngine
    from flowyml.provision.state import stack_lock
    from flowyml.stacks import LocalStack

    os.environ["FLOWYML_PROJECT_DIR"] = str(project)
    try:
        stack = LocalStack(name="local")
        engine = LocalEngine(lock_timeout=0, state_root=project / ".flowyml")
        held: list[bool] = []

        def precondition() -> None:
            from flowyml.provision.errors import StackLockedError

            try:  # the lock is ours already: another taker must fail
                with stack_lock("local", "probe", timeout=0, root=project / ".flowyml"):
                    held.append(False)
            except StackLockedError:
                held.append(True)
            raise SavedPlanError("stale")

        with pytest.raises(SavedPlanError):
            engine.up(stack, precondition=precondition)
        assert held == [True]
        assert not (project / ".flowyml" / "metadata.db").exists()
    finally:
        del os.environ["FLOWYML_PROJECT_DIR"]


class _NeverCalledWorkspace:
    def up(self, on_event: object) -> None:
        raise AssertionError("pulumi up ran although the saved plan was stale")


def test_the_pulumi_engine_checks_the_precondition_before_touching_the_workspace(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace stands in for ``pulumi.automation.Stack``: the real one needs the CLI."""
    from flowyml.provision.errors import SavedPlanError
    from flowyml.provision.pulumi_engine import PulumiEngine
    from flowyml.stacks.gcp import GCPStack

    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    engine = PulumiEngine(lock_timeout=0)
    touched: list[str] = []

    def workspace(stack: object) -> _NeverCalledWorkspace:
        touched.append("workspace")
        return _NeverCalledWorkspace()

    monkeypatch.setattr(engine, "_workspace_stack", workspace)

    def stale() -> None:
        raise SavedPlanError("stale")

    stack = GCPStack(
        name="prod", project_id="my-gcp-project", region="us-central1", bucket_name="my-artifacts"
    )
    with pytest.raises(SavedPlanError):
        engine.up(stack, precondition=stale)
    assert touched == []


def test_a_plan_that_fails_a_gate_is_not_saved(project: Path) -> None:
    over = _run(
        project,
        "preview",
        "production",
        "--offline",
        "--max-monthly-cost",
        "1",
        "--out",
        "plan.json",
    )
    assert over.returncode == 3
    assert not (project / "plan.json").exists()
