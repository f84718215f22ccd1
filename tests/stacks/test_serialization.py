"""to_dict / from_dict round-trips and secrets never in clear."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.aws import AWSStack, EKSClusterSpec
from flowyml.stacks.components import (
    AzureBlobStore,
    DockerConfig,
    KubeflowOrchestrator,
    LocalExecutor,
    PostgreSQLMetadataStore,
    RemoteExecutor,
    ResourceConfig,
)
from flowyml.stacks.errors import StackConfigError, StackError
from flowyml.stacks.gcp import GCPStack, GKEClusterSpec
from flowyml.stacks.k8s import KubernetesStack

STACKS = [
    LocalStack(),
    LocalStack(name="dev", artifact_path="a", metadata_path="m.db", budget=Decimal("12.50")),
    GCPStack(
        name="production",
        project_id="my-gcp-project",
        bucket_name="my-artifacts",
        registry_uri="gcr.io/my-project",
        cluster=GKEClusterSpec(),
        docker=DockerConfig(base_image="python:3.11-slim", requirements=["pandas"]),
        resources=ResourceConfig(cpu="4", memory="15Gi", machine_type="n1-standard-4"),
        backend="gs://state-bucket",
    ),
    GCPStack(
        name="novertex",
        project_id="my-gcp-project",
        bucket_name="b-1",
        use_vertex=False,
        database=None,
    ),
    AWSStack(name="aws-prod", s3_bucket="my-artifacts", cluster=EKSClusterSpec()),
    KubernetesStack(name="k8s-cluster", orchestrator=KubeflowOrchestrator()),
    Stack(
        "custom",
        executor=RemoteExecutor(endpoint="ssh://runner@runner.example.com"),
        artifact_store=AzureBlobStore(container="arts", connection_string="${AZ_CONN}"),
        metadata_store=PostgreSQLMetadataStore(
            host="db", database="d", user="u", password="${DB_PASSWORD}"
        ),
    ),
]


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_round_trip(stack: Stack) -> None:
    data = stack.to_dict()
    assert data["type"] == stack.stack_type
    again = Stack.from_dict(json.loads(json.dumps(data)))
    assert again == stack
    assert type(again) is type(stack)


def test_derived_components_are_omitted_and_overrides_kept() -> None:
    data = LocalStack().to_dict()
    assert "executor" not in data and data["artifact_path"] == ".flowyml/artifacts"
    tuned = LocalStack(executor=LocalExecutor(max_workers=8))
    assert tuned.to_dict()["executor"]["max_workers"] == 8
    assert Stack.from_dict(tuned.to_dict()) == tuned


def test_gcp_derivation() -> None:
    stack = GCPStack(
        name="p", project_id="my-gcp-project", bucket_name="bkt-1", region="europe-west1"
    )
    assert stack.artifact_store.uri == "gs://bkt-1"
    assert stack.container_registry is not None
    # The repository is scoped to the stack (flowyml.stacks.physical_names).
    assert (
        stack.container_registry.uri == "europe-west1-docker.pkg.dev/my-gcp-project/flowyml-p-148d"
    )
    assert stack.executor.kind == "vertex_ai" and stack.orchestrator is not None
    assert stack.metadata_store.kind == "cloudsql"
    assert stack.needs_provisioning and not LocalStack().needs_provisioning


def test_env_reference_round_trips_as_reference() -> None:
    stack = STACKS[-1]
    data = stack.to_dict()
    assert data["metadata_store"]["password"] == "${DB_PASSWORD}"
    assert data["artifact_store"]["connection_string"] == "${AZ_CONN}"


def _literal() -> Stack:
    return Stack(
        "lit",
        executor=LocalExecutor(),
        artifact_store={"kind": "local", "path": "a"},
        metadata_store=PostgreSQLMetadataStore(
            host="h", database="d", user="u", password="hunter2"
        ),
    )


def test_literal_secret_is_masked_and_round_trips_in_process() -> None:
    stack = _literal()
    text = json.dumps(stack.to_dict())
    assert "hunter2" not in text and "hunter2" not in repr(stack)
    shown = stack.to_dict()["metadata_store"]["password"]
    assert shown["value"] == "[secret]" and shown["secret_ref"].startswith("memory:")
    assert Stack.from_dict(json.loads(text)) == stack
    assert "hunter2" not in json.dumps(stack.describe())


def test_literal_secret_reference_is_refused_in_another_process() -> None:
    text = json.dumps(_literal().to_dict())
    code = (
        "import json,sys\nfrom flowyml.stacks import Stack\n"
        "try:\n    Stack.from_dict(json.loads(sys.stdin.read()))\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True)
    assert "StackConfigError" in out.stdout
    assert "held in memory by another process" in out.stdout
    assert "hunter2" not in out.stdout + out.stderr


def test_env_secret_ref_spelling_and_masked_value() -> None:
    data = _literal().to_dict()
    data["metadata_store"]["password"] = {"secret_ref": "env:DB_PASSWORD"}
    assert Stack.from_dict(data).to_dict()["metadata_store"]["password"] == "${DB_PASSWORD}"
    data["metadata_store"]["password"] = "[secret]"
    with pytest.raises(StackConfigError, match="masked secret"):
        Stack.from_dict(data)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"type": "lokal", "name": "x"}, "unknown stack type 'lokal'; did you mean 'local'?"),
        (
            {"type": "gcp", "name": "x", "project_id": "my-gcp-project"},
            "bucket_name: required field is missing",
        ),
        ({"type": "local", "name": "x", "artefact_path": "a"}, "artefact_path: unknown field"),
        ({"type": "local", "name": "bad name"}, "stack name 'bad name' must be"),
        ({"type": "local", "resources": {"cpu": "lots"}}, "resources.cpu: invalid cpu quantity"),
    ],
)
def test_from_dict_errors_are_one_line(data: dict, fragment: str) -> None:
    with pytest.raises(StackError) as info:
        Stack.from_dict(data)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_from_dict_on_subclass_checks_type() -> None:
    with pytest.raises(StackConfigError, match="not a GCPStack"):
        GCPStack.from_dict(LocalStack().to_dict())
    assert LocalStack.from_dict({"name": "x"}) == LocalStack(name="x")


def test_stacks_are_frozen_values() -> None:
    stack = LocalStack()
    with pytest.raises(Exception, match="frozen"):
        stack.name = "other"  # type: ignore[misc]
    assert LocalStack() == LocalStack() and LocalStack() != LocalStack(name="x")
