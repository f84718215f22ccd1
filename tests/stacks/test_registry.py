"""StackRegistry persistence (across real processes), active stack, resolve_stack precedence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.aws import AWSStack
from flowyml.stacks.components import LocalExecutor, PostgreSQLMetadataStore
from flowyml.stacks.errors import StackConfigError, StackRegistryError, UnknownStackError
from flowyml.stacks.gcp import GCPStack
from flowyml.stacks.registry import (
    StackRegistry,
    get_active_stack,
    resolve_stack,
    set_active_stack,
)
from flowyml.stacks.suggest import suggest_stack

GCP = GCPStack(name="gcp-prod", project_id="my-gcp-project", bucket_name="my-artifacts")
AWS = AWSStack(name="aws-prod", s3_bucket="my-artifacts")


def _py(code: str, root: Path) -> str:
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_reads_never_create_state(project: Path) -> None:
    registry = StackRegistry()
    assert registry.list_stacks() == ["local"]
    assert registry.get_active_stack() is None
    assert registry.get_stack("local") == LocalStack()
    with pytest.raises(UnknownStackError):
        registry.get_stack("nope")
    with pytest.raises(UnknownStackError):
        registry.set_active_stack("nope")
    assert resolve_stack() == LocalStack()
    assert not (project / ".flowyml").exists()


def test_persists_across_processes(project: Path) -> None:
    registry = StackRegistry()
    registry.register_stack(LocalStack())
    registry.register_stack(GCP)
    registry.register_stack(AWS)
    registry.set_active_stack("gcp-prod")
    out = _py(
        "from flowyml.stacks.registry import StackRegistry\n"
        "r = StackRegistry()\n"
        "print(r.list_stacks(), r.get_active_stack().name, r.get_stack('aws-prod').s3_bucket)\n",
        project,
    )
    assert out == "['local', 'gcp-prod', 'aws-prod'] gcp-prod my-artifacts"
    _py(
        "from flowyml.stacks.registry import StackRegistry, set_active_stack\n"
        "StackRegistry().remove_stack('aws-prod'); set_active_stack('local')\n",
        project,
    )
    assert registry.list_stacks() == ["local", "gcp-prod"]
    assert get_active_stack() == LocalStack()
    assert registry.get_stack("gcp-prod") == GCP


def test_concurrent_registrations_lose_nothing(project: Path) -> None:
    code = (
        "import sys\nfrom flowyml.stacks import LocalStack\n"
        "from flowyml.stacks.registry import StackRegistry\n"
        "r = StackRegistry()\n"
        "for i in range(15):\n    r.register_stack(LocalStack(name=f'p{sys.argv[1]}-{i}'))\n"
    )
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n)], env=env) for n in range(4)]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    data = json.loads((project / ".flowyml" / "registry.json").read_text())
    assert len(data["stacks"]) == 60


def test_remove_clears_active_and_refuses_unknown(project: Path) -> None:
    registry = StackRegistry()
    registry.register_stack(GCP)
    registry.set_active_stack("gcp-prod")
    registry.remove_stack("gcp-prod")
    assert registry.active_name() is None
    with pytest.raises(UnknownStackError, match="Did you mean 'gcp-prod'") as info:
        StackRegistry().register_stack(GCP) or registry.get_stack("gcp-prd")
    assert "Known stacks: local (local), gcp-prod (gcp)." in str(info.value)
    assert "flowyml stack register FILE" in str(info.value)
    with pytest.raises(StackRegistryError, match="built-in"):
        registry.remove_stack("local")


def test_config_declared_stacks_are_visible_and_protected(guide_project: Path) -> None:
    registry = StackRegistry()
    registry.register_stack(AWS)
    assert registry.list_stacks() == ["local", "production", "aws-prod"]
    assert isinstance(registry.get_stack("production"), GCPStack)
    registry.register_stack(registry.get_stack("production"))  # identical: no-op
    with pytest.raises(StackRegistryError, match="declared in"):
        registry.register_stack(LocalStack(artifact_path="elsewhere"))
    with pytest.raises(StackRegistryError, match="remove it from that file"):
        registry.remove_stack("production")


def test_literal_secrets_are_not_persisted(project: Path) -> None:
    stack = Stack(
        "pg",
        executor=LocalExecutor(),
        artifact_store={"kind": "local", "path": "a"},
        metadata_store=PostgreSQLMetadataStore(
            host="h", database="d", user="u", password="hunter2"
        ),
    )
    with pytest.raises(StackRegistryError, match=r"literal secret at metadata_store.password"):
        StackRegistry().register_stack(stack)
    assert not (project / ".flowyml").exists()


def test_corrupt_registry_is_a_clear_error(project: Path) -> None:
    (project / ".flowyml").mkdir()
    (project / ".flowyml" / "registry.json").write_text("{not json")
    with pytest.raises(StackRegistryError, match="is not valid JSON"):
        StackRegistry().list_stacks()


def test_resolve_precedence(guide_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_arg, pipe_arg = LocalStack(name="run"), LocalStack(name="pipe")
    assert resolve_stack(run_arg, pipe_arg) is run_arg
    assert resolve_stack(None, pipe_arg) is pipe_arg
    assert resolve_stack("production", None).name == "production"
    assert resolve_stack() == LocalStack()  # nothing chosen
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert resolve_stack().name == "production"
    set_active_stack("local")
    assert resolve_stack().name == "local"  # active beats ENVIRONMENT
    monkeypatch.setenv("FLOWYML_STACK", "production")
    assert resolve_stack().name == "production"  # FLOWYML_STACK beats active
    assert resolve_stack(None, "local").name == "local"  # Pipeline(stack=) beats both
    monkeypatch.setenv("FLOWYML_STACK", "nope")
    with pytest.raises(UnknownStackError, match="chosen by FLOWYML_STACK"):
        resolve_stack()


def test_environment_names_missing_stack(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "flowyml.yaml").write_text("default_stack: dev\nstacks:\n  dev: {type: local}\n")
    assert resolve_stack().name == "dev"
    monkeypatch.setenv("ENVIRONMENT", "staging")
    with pytest.raises(UnknownStackError, match=r"'staging'.*chosen by ENVIRONMENT"):
        resolve_stack()


def test_broken_chosen_stack_raises(project: Path) -> None:
    (project / "flowyml.yaml").write_text(
        "stacks:\n  p: {type: gcp, project_id: x}\n  ok: {type: local}\n"
    )
    assert resolve_stack("ok").name == "ok"  # one broken entry does not block the others
    with pytest.raises(StackConfigError, match="bucket_name"):
        resolve_stack("p")


def test_set_active_stack_accepts_a_stack(project: Path) -> None:
    set_active_stack(GCP)
    assert get_active_stack() == GCP


def test_guide_sequence_with_the_gcp_stack_called_production(project: Path) -> None:
    """The guide registers `gcp_stack` and activates "gcp-prod"; a reader whose GCP stack is the
    guide's `GCPStack(name="production", ...)` gets the GCP stack suggested, not `aws-prod`."""
    registry = StackRegistry()
    registry.register_stack(LocalStack())
    registry.register_stack(
        GCPStack(name="production", project_id="my-gcp-project", bucket_name="my-artifacts")
    )
    registry.register_stack(AWSStack(name="aws-prod", s3_bucket="my-artifacts"))
    registry.set_active_stack("local")
    with pytest.raises(UnknownStackError) as info:
        registry.set_active_stack("gcp-prod")
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(
        "unknown stack 'gcp-prod'. Known stacks: local (local), production (gcp), aws-prod (aws)."
        " Did you mean 'production' (the gcp stack)? To fix:"
    )
    assert registry.active_name() == "local"  # the failed switch changed nothing


@pytest.mark.parametrize(
    ("name", "known", "expected"),
    [
        ("gcp-prod", [("production", "gcp"), ("aws-prod", "aws")], "production"),
        ("aws-inference", [("production", "gcp"), ("aws-prod", "aws")], "aws-prod"),
        ("k8s", [("local", "local"), ("k8s-cluster", "kubernetes")], "k8s-cluster"),
        ("gcp-prod", [("local", "local"), ("aws-prod", "aws")], None),  # no GCP stack at all
        ("prodution", [("local", "local"), ("production", "gcp")], "production"),
        ("gcp-train", [("gcp-prod", "gcp"), ("gcp-train2", "gcp"), ("x", None)], "gcp-train2"),
        ("zzz", [("local", "local")], None),
    ],
)
def test_suggestion_follows_the_type_the_name_says(
    name: str, known: list[tuple[str, str | None]], expected: str | None
) -> None:
    assert suggest_stack(name, known) == expected
