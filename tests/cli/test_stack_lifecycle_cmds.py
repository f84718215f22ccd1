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

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")


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


def _unprotect(project: Path, filename: str) -> None:
    """Turn the shipped stack's database deletion protection off (a destroy can then start)."""
    path = project / "stacks" / filename
    text = path.read_text()
    assert "deletion_protection: true" in text
    path.write_text(text.replace("deletion_protection: true", "deletion_protection: false"))


@pytest.mark.skipif(pulumi_cli_available(), reason="the Pulumi CLI is installed here")
@pytest.mark.parametrize("command", ["up", "destroy", "refresh"])
def test_cloud_lifecycle_without_pulumi_is_one_line(project: Path, command: str) -> None:
    if command == "destroy":  # else refused first for its protected database (tested below)
        _unprotect(project, "production.yaml")
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


def _record_outputs(project: Path, values: dict[str, str], secrets: set[str]) -> None:
    from flowyml.core.outputs import StackOutputs
    from flowyml.provision.state import save_outputs

    os.environ["FLOWYML_PASSPHRASE"] = "test-passphrase"
    try:
        save_outputs(
            StackOutputs("production", values, frozenset(secrets), engine="pulumi"),
            project / ".flowyml",
        )
    finally:
        del os.environ["FLOWYML_PASSPHRASE"]


def test_outputs_mask_secrets_unless_asked(project: Path) -> None:
    url = "postgresql+psycopg://flowyml:Sup3r-s3cret@/flowyml?host=/cloudsql/p:us-central1:i"
    _record_outputs(
        project, {"artifact_uri": "gs://my-artifacts", "metadata_url": url}, {"metadata_url"}
    )
    assert "Sup3r-s3cret" not in (project / ".flowyml/stacks/production/outputs.json").read_text()

    text = _run(project, "outputs", "production")
    as_json = _run(project, "outputs", "production", "--json")
    shown = _run(project, "outputs", "production", "--json", "--show-secrets")

    assert text.returncode == as_json.returncode == shown.returncode == 0, text.stderr
    assert "metadata_url = [secret]" in text.stdout and "gs://my-artifacts" in text.stdout
    for result in (text, as_json):
        assert "Sup3r-s3cret" not in result.stdout + result.stderr
    doc = json.loads(as_json.stdout)
    assert doc["outputs"]["metadata_url"] == "[secret]" and doc["secrets"] == ["metadata_url"]
    assert json.loads(shown.stdout)["outputs"]["metadata_url"] == url
    # The wrong passphrase cannot reveal them: one line, no traceback.
    wrong = _run(project, "outputs", "production", "--show-secrets", FLOWYML_PASSPHRASE="other")
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert "Sup3r-s3cret" not in wrong.stdout + wrong.stderr


def test_stack_budget_in_the_declaration_gates_with_exit_3(project: Path) -> None:
    declared = (project / "stacks" / "production.yaml").read_text()
    (project / "stacks" / "production.yaml").write_text(declared + "budget: 5\n")

    over = _run(project, "preview", "production", "--offline")
    raised = _run(project, "preview", "production", "--offline", "--max-monthly-cost", "100")

    assert over.returncode == 3
    (line,) = _error_lines(over)
    assert "over the budget of $5.00 by $" in line
    assert "+ metadata" in over.stdout  # the plan is still shown
    assert raised.returncode == 0, raised.stderr  # the option overrides the declared budget


def _recorded_checkpoint(project: Path, stack_name: str) -> list[dict[str, object]]:
    """Record the stack's program as the file backend would after `up` (secrets as ciphertext)."""
    from flowyml.infra import program_for
    from flowyml.provision.mock_eval import evaluate_program
    from flowyml.stacks.registry import StackRegistry

    env = os.environ.copy()
    os.environ["FLOWYML_PROJECT_DIR"] = str(project)
    try:
        stack = StackRegistry(root=project).get_stack(stack_name)
        evaluation = evaluate_program(program_for(stack), project="flowyml", stack=stack_name)
    finally:
        os.environ.clear()
        os.environ.update(env)
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    resources: list[dict[str, object]] = [
        {
            "urn": f"urn:pulumi:{stack_name}::flowyml::pulumi:pulumi:Stack::flowyml-{stack_name}",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
        },
    ]
    for r in evaluation.resources:
        inputs = {
            k: ({**secret, "ciphertext": "v1:CIPHERTEXT"} if k in r.secret_inputs else v)
            for k, v in r.inputs.items()
        }
        resources.append(
            {"urn": r.urn, "type": r.type, "custom": r.custom, "inputs": inputs, "parent": r.parent}
        )
    path = project / ".flowyml/pulumi/.pulumi/stacks/flowyml" / f"{stack_name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"version": 3, "checkpoint": {"stack": stack_name, "latest": {"resources": resources}}}
        )
    )
    return resources


def test_plan_json_is_the_terraform_like_envelope_and_holds_no_secret(project: Path) -> None:
    from flowyml.provision.mock_eval import default_state

    _recorded_checkpoint(project, "production")
    # A region change moves the bucket (forces a replace) and other resources in place.
    result = _run(
        project, "preview", "production", "--offline", "--json", GCP_REGION="europe-west1"
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)

    assert plan["format_version"] == "1.0"
    assert {"stack", "operation", "engine", "summary", "resource_changes"} <= set(plan)
    for change in plan["resource_changes"]:
        assert {
            "address",
            "type",
            "actions",
            "before",
            "after",
            "after_unknown",
            "sensitive",
            "replace_paths",
        } <= set(change)
        assert change["address"].startswith("urn:pulumi:production::flowyml::")
        assert isinstance(change["actions"], list) and change["actions"]
        for key in change["sensitive"]:
            for side in ("before", "after"):
                if change[side] is not None and key in change[side]:
                    assert change[side][key] == "[secret]", (change["name"], side, key)
    by_name = {c["name"]: c for c in plan["resource_changes"]}
    bucket = by_name["artifacts"]
    assert "delete" in bucket["actions"] and "create" in bucket["actions"]
    assert "location" in bucket["replace_paths"]
    assert bucket["before"]["location"] != bucket["after"]["location"]
    assert by_name["metadata-user"]["sensitive"] == ["password"]
    # Neither the generated password (as the mocks make it) nor the ciphertext appears.
    _id, state = default_state(
        "random:index/randomPassword:RandomPassword", "metadata-password", {}
    )
    assert state["result"] not in result.stdout
    assert "CIPHERTEXT" not in result.stdout


class _CheckpointEngine:
    """Stands in for PulumiEngine (its real path needs the Pulumi CLI, not installable here):
    destroy_preview reads the recorded checkpoint like the offline planner; destroy records
    that it was called."""

    name = "pulumi"

    def __init__(self) -> None:
        from flowyml.provision.offline import OfflinePlanner

        self._planner = OfflinePlanner()
        self.destroyed = False

    def destroy_preview(self, stack: object) -> object:
        return self._planner.destroy_preview(stack)  # type: ignore[arg-type]

    def destroy(self, stack: object, on_event: object = None) -> object:
        self.destroyed = True
        return self._planner.destroy_preview(stack)  # type: ignore[arg-type]


@pytest.mark.parametrize("stack_name", ["production", "aws-prod"])
def test_destroy_lists_what_goes_and_flags_data(
    project: Path, monkeypatch: pytest.MonkeyPatch, stack_name: str
) -> None:
    from click.testing import CliRunner

    from flowyml.cli.stack_lifecycle_cmds import destroy_cmd
    from flowyml.provision import select

    for var in ("GCP_REGION", "GCP_PROJECT_ID", "GCP_BUCKET", "AWS_REGION", "AWS_BUCKET"):
        monkeypatch.delenv(var, raising=False)
    _unprotect(project, {"production": "production.yaml", "aws-prod": "aws.yaml"}[stack_name])
    resources = _recorded_checkpoint(project, stack_name)
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    engine = _CheckpointEngine()
    monkeypatch.setattr(select, "engine_for", lambda *a, **k: select.Choice(engine))

    refused = CliRunner().invoke(destroy_cmd, [stack_name])
    assert refused.exit_code == 1 and not engine.destroyed
    result = CliRunner().invoke(destroy_cmd, [stack_name, "--yes"])

    assert result.exit_code == 0, result.output
    assert engine.destroyed
    flagged = {line.split()[2] for line in result.output.splitlines() if "[DATA:" in line}
    data = {
        "production": {"artifacts", "metadata", "metadata-db", "registry"},
        "aws-prod": {"artifacts", "metadata"},
    }[stack_name]
    # aws-prod declares `ecr_registry:`; whether its program also creates a repository is the
    # program's business: when one is recorded, it must be flagged too.
    recorded = {str(r["urn"]).rsplit("::", 1)[-1] for r in resources}
    data |= {"registry"} & recorded
    assert data <= flagged, flagged
    assert "runner" not in flagged
    assert f"deletes {len(resources) - 1} resource(s)" in result.output


def test_up_on_a_terminal_shows_the_priced_plan_and_asks(project: Path) -> None:
    import pexpect

    def up() -> pexpect.spawn:
        return pexpect.spawn(
            sys.executable,
            ["-m", "flowyml.cli", "stack", "up", "local"],
            cwd=str(project),
            env=_env(project),
            encoding="utf-8",
            timeout=60,
        )

    declined = up()
    declined.expect(r"Monthly cost: .*\$0\.00/mo")
    declined.expect(r"Apply these changes to stack local\? \[y/N\]")
    declined.sendline("n")
    declined.expect("Nothing changed: up of stack local declined.")
    declined.expect(pexpect.EOF)
    declined.close()
    assert declined.exitstatus == 1
    assert not (project / ".flowyml" / "metadata.db").exists()

    accepted = up()
    accepted.expect(r"\[y/N\]")
    accepted.sendline("y")
    accepted.expect("Stack local is up: 2 created")
    accepted.expect(pexpect.EOF)
    accepted.close()
    assert accepted.exitstatus == 0
    assert (project / ".flowyml" / "metadata.db").is_file()


# -- preview and up validate first (issue 11, point 1) ------------------------------------------

_BAD = {"GCP_BUCKET": "My_Bucket..bad", "GCP_PROJECT_ID": "x", "GCP_REGION": "mars"}


@pytest.mark.parametrize(
    "args", [("preview", "production", "--offline"), ("up", "production", "--yes")]
)
def test_a_bad_declaration_is_refused_before_any_plan(project: Path, args: tuple[str]) -> None:
    result = _run(project, *args, **_BAD)
    assert result.returncode == 1
    (line,) = _error_lines(result)
    assert "has 3 problems" in line
    for field in ("project_id:", "region: 'mars'", "bucket_name: GCS bucket name 'My_Bucket..bad'"):
        assert line.count(field) == 1, line  # each problem listed once
    assert result.stdout == ""  # no plan printed
    assert "Pulumi CLI" not in result.stderr  # refused before an engine is chosen


def test_a_capability_the_provider_lacks_is_refused_by_preview_and_up(project: Path) -> None:
    (project / "stacks" / "aws-vertex.yaml").write_text(
        "name: aws-vertex\ntype: aws\nregion: us-east-1\ns3_bucket: my-vertex-artifacts\n"
        "executor:\n  kind: vertex_ai\n  project_id: my-gcp-project\n  region: us-central1\n"
    )
    # validate runs the same preflight as preview and up (it used to call this stack valid).
    validated = _run(project, "validate", "aws-vertex")
    assert validated.returncode == 1
    assert "executor: the aws program cannot build it: Vertex AI" in validated.stdout
    for args in (("preview", "aws-vertex", "--offline"), ("up", "aws-vertex", "--yes")):
        result = _run(project, *args)
        assert result.returncode == 1
        (line,) = _error_lines(result)
        assert "executor: the aws program cannot build it: Vertex AI" in line
        assert "flowyml stack preview aws-vertex --offline" in line  # not `validate`
        assert result.stdout == ""


# -- --json on up, destroy, refresh (point 3) ---------------------------------------------------


def test_up_destroy_refresh_json_are_one_document_each(project: Path) -> None:
    up = _run(project, "up", "local", "--yes", "--json")
    assert up.returncode == 0, up.stderr
    doc = json.loads(up.stdout)  # stdout holds the JSON only (progress went to stderr)
    assert doc["operation"] == "up" and doc["engine"] == "local"
    assert doc["plan"]["summary"]["create"] == 2
    assert doc["outputs"]["metadata_url"].startswith("sqlite:///")
    assert "created flowyml:local:ArtifactRoot" in up.stderr

    refreshed = _run(project, "refresh", "local", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    assert json.loads(refreshed.stdout)["drift"] == []

    destroyed = _run(project, "destroy", "local", "--yes", "--json")
    assert destroyed.returncode == 0, destroyed.stderr
    doc = json.loads(destroyed.stdout)
    assert doc["destroyed"] is True
    assert sorted(doc["data_lost"]) == [
        "flowyml:local:ArtifactRoot::artifacts",
        "flowyml:local:SqliteDatabase::metadata",
    ]
    assert "[DATA: its contents are lost]" in destroyed.stderr  # the listing, on stderr

    nothing = _run(project, "destroy", "local", "--yes", "--json")
    assert json.loads(nothing.stdout)["destroyed"] is False


# -- drift with its cost (point 5) ---------------------------------------------------------------


def test_local_refresh_shows_a_resource_deleted_outside_flowyml(project: Path) -> None:
    assert _run(project, "up", "local", "--yes").returncode == 0
    shutil.rmtree(project / ".flowyml" / "artifacts")
    result = _run(project, "refresh", "local")
    assert result.returncode == 0, result.stderr
    assert "- artifacts  flowyml:local:ArtifactRoot" in result.stdout
    assert "(deleted outside flowyml)" in result.stdout
    assert "1 resource(s) drifted" in result.stdout


SQL_URN = "urn:pulumi:production::flowyml::gcp:sql/databaseInstance:DatabaseInstance::metadata"
USER_URN = "urn:pulumi:production::flowyml::gcp:sql/user:User::metadata-user"


def _refresh_events() -> list[dict[str, object]]:
    """A refresh as the Pulumi engine reports it (JSON event shape): someone resized the
    database in the console to db-custom-2-7680 and grew its disk; the user's password was
    rotated (a secret: it must never be shown)."""

    def sql(tier: str, disk: int) -> dict[str, object]:
        return {
            "type": "gcp:sql/databaseInstance:DatabaseInstance",
            "urn": SQL_URN,
            "inputs": {
                "region": "us-central1",
                "databaseVersion": "POSTGRES_15",
                "settings": {"tier": tier, "diskSize": disk, "diskType": "PD_SSD"},
            },
        }

    def user(password: str) -> dict[str, object]:
        secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
        return {
            "type": "gcp:sql/user:User",
            "urn": USER_URN,
            "inputs": {"name": "flowyml", "password": {**secret, "value": password}},
        }

    steps = [
        {
            "op": "refresh",
            "urn": SQL_URN,
            "type": "gcp:sql/databaseInstance:DatabaseInstance",
            "old": sql("db-f1-micro", 10),
            "new": sql("db-custom-2-7680", 50),
            "diffs": ["settings"],
        },
        {
            "op": "refresh",
            "urn": USER_URN,
            "type": "gcp:sql/user:User",
            "old": user("old-Pa55word-xyz"),
            "new": user("new-Pa55word-xyz"),
            "diffs": ["password"],
        },
    ]
    events: list[dict[str, object]] = []
    for i, step in enumerate(steps):
        events.append({"sequence": 2 * i, "timestamp": 1, "resourcePreEvent": {"metadata": step}})
        events.append(
            {"sequence": 2 * i + 1, "timestamp": 1, "resOutputsEvent": {"metadata": step}}
        )
    events.append({"sequence": 9, "timestamp": 1, "summaryEvent": {"resourceChanges": {}}})
    return events


class _ReplayingWorkspace:
    """Stands in for ``pulumi.automation.Stack`` (the real one drives the Pulumi CLI, which
    cannot be installed here): replays recorded refresh events and has no outputs."""

    def refresh(self, on_event: object) -> None:
        from pulumi import automation as auto

        for raw in _refresh_events():
            on_event(auto.events.EngineEvent.from_json(raw))  # type: ignore[operator]

    def outputs(self) -> dict[str, object]:
        return {}


@pytest.mark.parametrize("as_json", [False, True])
def test_refresh_shows_each_drifted_property_and_its_monthly_cost(
    project: Path, monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    from click.testing import CliRunner

    from flowyml.cli.stack_lifecycle_cmds import refresh_cmd
    from flowyml.provision import select
    from flowyml.provision.pulumi_engine import PulumiEngine

    for var in ("GCP_REGION", "GCP_PROJECT_ID", "GCP_BUCKET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    monkeypatch.setenv("FLOWYML_PASSPHRASE", "test-passphrase")
    # The real engine's refresh (events -> Plan, outputs re-recorded), on a replayed workspace.
    engine = PulumiEngine(lock_timeout=0)
    monkeypatch.setattr(engine, "_workspace_stack", lambda stack: _ReplayingWorkspace())
    monkeypatch.setattr(select, "engine_for", lambda *a, **k: select.Choice(engine))

    result = CliRunner().invoke(refresh_cmd, ["production", *(["--json"] if as_json else [])])

    assert result.exit_code == 0, result.output
    assert "Pa55word" not in result.output
    # db-f1-micro $7.665 + 10 GB SSD $1.70 = $9.37 before; db-custom-2-7680 + 50 GB SSD after.
    from decimal import Decimal

    from flowyml.cost import estimate_resource

    after = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"region": "us-central1", "settings": {"tier": "db-custom-2-7680", "diskSize": 50}},
    ).monthly
    assert after is not None and after > Decimal("9.37")
    delta = after - Decimal("9.365")
    if as_json:
        doc = json.loads(result.output)
        (sql, user) = sorted(doc["drift"], key=lambda d: d["name"])
        assert {p["path"]: (p["before"], p["after"]) for p in sql["properties"]} == {
            "settings.diskSize": (10, 50),
            "settings.tier": ("db-f1-micro", "db-custom-2-7680"),
        }
        assert Decimal(sql["monthly_delta"]) == delta
        assert user["properties"] == [
            {"path": "password", "before": "[secret]", "after": "[secret]"}
        ]
        assert Decimal(doc["cost"]["delta_monthly"]) == delta
        return
    assert 'settings.tier: "db-f1-micro" -> "db-custom-2-7680"' in result.output
    assert "settings.diskSize: 10 -> 50" in result.output
    assert 'password: "[secret]" -> "[secret]"' in result.output
    assert "Monthly cost effect of the drift: $9.37 -> " in result.output
    assert "2 resource(s) drifted" in result.output


def test_destroy_of_a_protected_database_is_refused_before_anything_runs(
    project: Path, tmp_path: Path
) -> None:
    """Cloud SQL refuses to delete a protected instance: flowyml says so up front, in one line,
    instead of starting a destroy that would stop halfway (no engine is even looked for)."""
    refused = _run(project, "destroy", "production", "--yes")
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert "cannot be destroyed" in lines[0] and "deletion protection is on" in lines[0]
    assert "Pulumi CLI" not in refused.stderr


def test_refresh_of_a_local_stack_never_brought_up_says_so(project: Path) -> None:
    refused = _run(project, "refresh", "local")
    assert refused.returncode == 1
    (line,) = _error_lines(refused)
    assert "never brought up, so there is nothing to refresh" in line
    assert "flowyml stack up local" in line
    assert not (project / ".flowyml" / "stacks" / "local").exists()  # nothing written


@pytest.mark.parametrize("columns", ["100", "120"])
def test_the_text_preview_fits_the_terminal(project: Path, columns: str) -> None:
    shown = _run(project, "preview", "production", "--offline", COLUMNS=columns)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    assert any("DatabaseInstance" in line and "$" in line for line in lines)
