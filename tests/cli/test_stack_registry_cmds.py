"""`flowyml stack list|describe|set|validate|schema|register|delete`: CliRunner for behaviour,
real `flowyml` subprocesses for the one-line error contract (stderr, exit code, no traceback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowyml.cli.main import cli
from flowyml.core.errors import FlowymlError

GUIDE_CONFIG = """\
stacks:
  local:
    type: local
    artifact_path: .flowyml/artifacts
  production:
    type: gcp
    project_id: ${GCP_PROJECT_ID:-my-gcp-project}
    region: us-central1
    bucket_name: ${GCP_BUCKET:-my-artifacts}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "flowyml.yaml").write_text(GUIDE_CONFIG)
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(root))
    monkeypatch.chdir(root)
    for name in ("FLOWYML_STACK", "ENVIRONMENT", "GCP_PROJECT_ID", "GCP_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    return root


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, ["stack", *args], catch_exceptions=True)


def flowyml(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("flowyml")
    command = [exe] if exe else [sys.executable, "-m", "flowyml.cli.main"]
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(root)}
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, cwd=root)


def test_list_json(project: Path) -> None:
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.output)  # type: ignore[attr-defined]
    assert [(r["name"], r["type"], r["active"], r["provisioned"]) for r in data["stacks"]] == [
        ("local", "local", False, False),  # never run nor brought up
        ("production", "gcp", False, False),
    ]
    assert not (project / ".flowyml").exists()


def test_provisioned_means_outputs_recorded(project: Path) -> None:
    outputs = project / ".flowyml" / "stacks" / "production" / "outputs.json"
    outputs.parent.mkdir(parents=True)
    outputs.write_text("{}")
    rows = json.loads(invoke("list", "--json").output)["stacks"]  # type: ignore[attr-defined]
    assert rows[1]["provisioned"] is True


def test_set_then_list_marks_active(project: Path) -> None:
    assert "Active stack: production (gcp)" in invoke("set", "production").output  # type: ignore[attr-defined]
    text = invoke("list").output  # type: ignore[attr-defined]
    assert any(line.startswith("*") and "production" in line for line in text.splitlines())
    assert json.loads(invoke("set", "local", "--json").output) == {
        "active": "local",
        "type": "local",
        "provisioned": True,  # nothing to provision: runs work at once
    }  # type: ignore[attr-defined]


def test_describe_shows_components(project: Path) -> None:
    data = json.loads(invoke("describe", "production", "--json").output)  # type: ignore[attr-defined]
    assert data["artifact_store"] == {"kind": "gcs", "bucket": "my-artifacts", "prefix": ""}
    assert data["container_registry"]["uri"].startswith(
        "us-central1-docker.pkg.dev/my-gcp-project/flowyml"
    )
    assert data["database"]["tier"] == "db-f1-micro"
    text = invoke("describe", "production").output  # type: ignore[attr-defined]
    assert "executor           Vertex AI custom jobs" in text
    assert "tier db-f1-micro" in text
    assert "null" not in text and "docker:" not in text  # only what is set


def test_validate(project: Path) -> None:
    ok = invoke("validate", "production", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["valid"] is True  # type: ignore[attr-defined]
    (project / "stacks").mkdir()
    (project / "stacks" / "bad.yaml").write_text(
        "name: bad\ntype: aws\ns3_bucket: Bad_Bucket\nregion: us-central1\n"
    )
    bad = invoke("validate", "bad", "--json")
    assert bad.exit_code == 1  # type: ignore[attr-defined]
    problems = json.loads(bad.output.split("\n}\n")[0] + "\n}")["problems"]  # type: ignore[attr-defined]
    assert [p["path"] for p in problems] == ["region", "s3_bucket"]


def test_schema(project: Path) -> None:
    schema = json.loads(invoke("schema").output)  # type: ignore[attr-defined]
    assert schema["title"] == "flowyml.yaml" and "stacks" in schema["else"]["properties"]
    assert json.loads(invoke("schema", "--json").output) == schema  # type: ignore[attr-defined]


def test_register_and_delete(project: Path, tmp_path: Path) -> None:
    file = tmp_path / "aws.yaml"
    file.write_text("stacks:\n  aws-prod:\n    type: aws\n    s3_bucket: my-artifacts\n")
    result = invoke("register", str(file), "--json")
    assert json.loads(result.output) == {  # type: ignore[attr-defined]
        "registered": [{"name": "aws-prod", "type": "aws"}],
        "already_declared": [],
    }
    assert "aws-prod" in invoke("list").output  # type: ignore[attr-defined]
    deleted = invoke("delete", "aws-prod")
    assert "Infrastructure was not touched (`stack delete` never touches it)." in deleted.output  # type: ignore[attr-defined]
    assert "aws-prod" not in invoke("list").output  # type: ignore[attr-defined]


def test_delete_of_provisioned_stack_says_it_stays(project: Path, tmp_path: Path) -> None:
    file = tmp_path / "aws.yaml"
    file.write_text("stacks:\n  aws-prod: {type: aws, s3_bucket: my-artifacts}\n")
    invoke("register", str(file))
    outputs = project / ".flowyml" / "stacks" / "aws-prod" / "outputs.json"
    outputs.parent.mkdir(parents=True)
    outputs.write_text("{}")
    text = invoke("delete", "aws-prod").output  # type: ignore[attr-defined]
    assert "still provisioned: run `flowyml stack destroy aws-prod`" in text
    assert outputs.exists()


def test_register_refuses_invalid_stack(project: Path, tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("stacks:\n  bad: {type: aws, s3_bucket: Bad_Bucket}\n")
    result = invoke("register", str(file))
    assert result.exit_code != 0 and isinstance(result.exception, FlowymlError)  # type: ignore[attr-defined]
    assert not (project / ".flowyml").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["describe", "prodution"],
        ["set", "prodution"],
        ["validate", "prodution"],
        ["delete", "prodution"],
    ],
)
def test_unknown_name_in_every_command(project: Path, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert "Did you mean 'production'" in str(result.exception)  # type: ignore[attr-defined]
    assert not (project / ".flowyml").exists()


# One real subprocess per error class: one line on stderr, non-zero exit, no traceback,
# nothing written to .flowyml/.
BAD_CONFIGS = {
    "malformed-yaml": ("stacks:\n  a: [1\n", ["stack", "list"], "malformed YAML"),
    "unknown-type": (
        "stacks:\n  a: {type: lokal}\n",
        ["stack", "describe", "a"],
        "unknown stack type 'lokal'",
    ),
    "missing-field": (
        "stacks:\n  p: {type: gcp, project_id: my-gcp-project}\n",
        ["stack", "validate", "p"],
        "bucket_name: required field is missing",
    ),
    "wrong-quantity": (
        "stacks:\n  a:\n    type: local\n    resources: {memory: 32GB}\n",
        ["stack", "set", "a"],
        "invalid memory quantity '32GB'",
    ),
    "unset-variable": (
        "stacks:\n  p: {type: gcp, project_id: '${NOPE_VAR}', bucket_name: b-1}\n",
        ["stack", "list"],
        "environment variable NOPE_VAR is not set and has no default. To fix: export NOPE_VAR=",
    ),
    "unknown-name": (
        GUIDE_CONFIG,
        ["stack", "set", "prodution"],
        "unknown stack 'prodution'. Known stacks: local (local), production (gcp). Did you mean 'production' (the gcp stack)?",
    ),
    "unknown-name-delete": (GUIDE_CONFIG, ["stack", "delete", "nope"], "unknown stack 'nope'"),
    "register-missing-file": (
        GUIDE_CONFIG,
        ["stack", "register", "missing.yaml"],
        "missing.yaml: no such file",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_input_real_process(tmp_path: Path, case: str) -> None:
    text, args, fragment = BAD_CONFIGS[case]
    root = tmp_path / "p"
    root.mkdir()
    (root / "flowyml.yaml").write_text(text)
    done = flowyml(root, *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and fragment in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert not (root / ".flowyml").exists()


def test_real_process_happy_path(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "flowyml.yaml").write_text(GUIDE_CONFIG)
    assert flowyml(root, "stack", "set", "production").returncode == 0
    done = flowyml(root, "stack", "list", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["active"] == "production"


NAME_COMMANDS = [["describe"], ["set"], ["validate"], ["delete"]]


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
@pytest.mark.parametrize("command", NAME_COMMANDS, ids=lambda c: c[0])
def test_unknown_name_real_process(
    tmp_path: Path, command: list[str], json_flag: list[str]
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "flowyml.yaml").write_text(GUIDE_CONFIG)
    done = flowyml(root, "stack", *command, "gcp-prd", *json_flag)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "Error: unknown stack 'gcp-prd'. Known stacks: local (local), production (gcp). "
        "Did you mean 'production' (the gcp stack)? To fix: "
    )
    assert not (root / ".flowyml").exists()


# Every bad input, in every command: a FlowymlError (one line), non-zero exit, nothing written.
BAD_INPUTS = {
    "malformed-yaml": "stacks:\n  s: [1\n",
    "unknown-type": "stacks:\n  s: {type: lokal}\n",
    "missing-field": "stacks:\n  s: {type: gcp, project_id: my-gcp-project}\n",
    "wrong-quantity": "stacks:\n  s:\n    type: local\n    resources: {cpu: two}\n",
    "unset-variable": "stacks:\n  s: {type: gcp, project_id: '${NOPE_VAR}', bucket_name: b-1}\n",
    "unknown-key": "stacks:\n  s: {type: local, artefact_path: x}\n",
}
ALL_COMMANDS = [["list"], ["describe", "s"], ["set", "s"], ["validate", "s"], ["delete", "s"]]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_bad_input_in_every_command(project: Path, case: str, command: list[str]) -> None:
    (project / "flowyml.yaml").write_text(BAD_INPUTS[case])
    for args in (command, [*command, "--json"], ["register", str(project / "flowyml.yaml")]):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)  # type: ignore[attr-defined]
        error = result.exception  # type: ignore[attr-defined]
        assert isinstance(error, FlowymlError), repr(error)
        assert "\n" not in str(error) and "flowyml.yaml:" in str(error)
        assert not (project / ".flowyml").exists()


def test_list_shows_the_stacks_that_load_then_fails_on_the_broken_one(project: Path) -> None:
    # GUIDE_CONFIG here has defaults; the guide's own file has none: production then is broken.
    (project / "flowyml.yaml").write_text(
        GUIDE_CONFIG.replace("${GCP_PROJECT_ID:-my-gcp-project}", "${GCP_PROJECT_ID}")
    )
    result = invoke("list", "--json")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "environment variable GCP_PROJECT_ID is not set" in str(result.exception)  # type: ignore[attr-defined]
    rows = json.loads(result.stdout)["stacks"]  # type: ignore[attr-defined]
    assert [(r["name"], r["type"], r["provisioned"]) for r in rows] == [
        ("local", "local", False),
        ("production", "gcp", None),
    ]
    assert rows[0]["error"] is None and "GCP_PROJECT_ID" in rows[1]["error"]
    text = invoke("list").stdout  # type: ignore[attr-defined]
    assert "production  gcp" in text and "does not load" in text
    assert not (project / ".flowyml").exists()


def test_register_writes_all_stacks_or_none(project: Path, tmp_path: Path) -> None:
    file = tmp_path / "two.yaml"
    file.write_text(
        "stacks:\n"
        "  ok-one: {type: aws, s3_bucket: my-artifacts}\n"
        "  with-secret:\n"
        "    type: custom\n"
        "    executor: {kind: local}\n"
        "    artifact_store: {kind: local, path: a}\n"
        "    metadata_store: {kind: postgresql, host: h, database: d, user: u, password: hunter2}\n"
    )
    result = invoke("register", str(file))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "literal secret at metadata_store.password" in str(result.exception)  # type: ignore[attr-defined]
    assert not (project / ".flowyml").exists()  # not even ok-one
    file.write_text(file.read_text().replace("hunter2", "'${DB_PASSWORD}'"))
    assert invoke("register", str(file)).exit_code == 0  # type: ignore[attr-defined]
    stored = (project / ".flowyml" / "registry.json").read_text()
    assert "${DB_PASSWORD}" in stored and "hunter2" not in stored
    assert [r["name"] for r in json.loads(invoke("list", "--json").stdout)["stacks"]] == [
        "local",
        "production",
        "ok-one",
        "with-secret",
    ]


def test_validate_reports_what_the_provider_cannot_build(tmp_path: Path) -> None:
    """`stack validate` runs the same checks as `stack preview`: Vertex AI on an AWS stack."""
    (tmp_path / "flowyml.yaml").write_text(
        "stacks:\n"
        "  aws-vertex:\n"
        "    type: aws\n"
        "    s3_bucket: bkt-1\n"
        "    executor: {kind: vertex_ai, project_id: my-project}\n"
    )
    proc = flowyml(tmp_path, "stack", "validate", "aws-vertex")
    assert proc.returncode != 0
    assert "executor: the aws program cannot build it: Vertex AI" in proc.stdout
