"""The Stack Architecture Guide's snippets, checked on the objects they build.

``test_guide_verbatim.py`` runs the blocks as typed, in real processes; the tests here check the
values those snippets produce, and fill the guide's ``...`` with real arguments.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flowyml.stacks import LocalStack
from flowyml.stacks.aws import AWSStack
from flowyml.stacks.components import DockerConfig, ResourceConfig
from flowyml.stacks.config import load_config
from flowyml.stacks.gcp import GCPStack
from flowyml.stacks.k8s import KubernetesStack
from flowyml.stacks.registry import StackRegistry, get_active_stack

GUIDE = Path(__file__).with_name("stack_guide.txt")
BLOCKS = re.findall(r"```(python|yaml)\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_guide_yaml_block_is_the_config_format(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (yaml_block,) = [code for lang, code in BLOCKS if lang == "yaml"]
    assert yaml.safe_load(yaml_block)["stacks"]["production"]["type"] == "gcp"
    (project / "flowyml.yaml").write_text(yaml_block)
    monkeypatch.setenv("GCP_PROJECT_ID", "my-gcp-project")
    monkeypatch.setenv("GCP_BUCKET", "my-artifacts")
    config = load_config()
    assert config.stacks["production"].validate() == []


def test_stack_types_snippets() -> None:
    local = LocalStack(
        name="local", artifact_path=".flowyml/artifacts", metadata_path=".flowyml/metadata.db"
    )
    assert local == LocalStack()
    gcp = GCPStack(
        name="production",
        project_id="my-gcp-project",
        region="us-central1",
        bucket_name="my-artifacts",
        registry_uri="gcr.io/my-project",
    )
    assert gcp.container_registry is not None and gcp.container_registry.uri == "gcr.io/my-project"
    aws = AWSStack(
        name="aws-prod",
        region="us-east-1",
        s3_bucket="my-artifacts",
        ecr_registry="123456789.dkr.ecr.us-east-1.amazonaws.com",
    )
    assert aws.artifact_store.uri == "s3://my-artifacts"
    k8s = KubernetesStack(name="k8s-cluster", namespace="flowyml", storage_class="standard")
    assert k8s.executor.kind == "kubernetes"


def test_resource_and_docker_snippets() -> None:
    gpu = ResourceConfig(
        cpu="16", memory="64Gi", gpu="nvidia-tesla-v100", gpu_count=4, machine_type="n1-highmem-16"
    )
    assert gpu.problems() == []
    assert ResourceConfig(cpu="32", memory="256Gi", machine_type="n1-megamem-96").problems() == []
    assert ResourceConfig(machine_type="n1-standard-4", preemptible=True).problems() == []
    assert ResourceConfig(cpu="2", memory="8Gi", autoscaling=True).problems() == []
    assert (
        DockerConfig(
            dockerfile="./Dockerfile", build_context=".", build_args={"PYTHON_VERSION": "3.11"}
        ).form
        == "dockerfile"
    )


def test_environment_based_configuration_with_real_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def choose() -> object:
        import os

        env = os.getenv("ENVIRONMENT", "local")
        if env == "production":
            return GCPStack(
                name="production", project_id="my-gcp-project", bucket_name="prod-artifacts"
            )
        if env == "staging":
            return GCPStack(
                name="staging", project_id="my-gcp-project", bucket_name="staging-artifacts"
            )
        return LocalStack()

    monkeypatch.setenv("ENVIRONMENT", "staging")
    assert choose().bucket_name == "staging-artifacts"  # type: ignore[attr-defined]
    monkeypatch.delenv("ENVIRONMENT")
    assert choose() == LocalStack()


def test_global_registry_method(guide_project: Path) -> None:
    from flowyml import Pipeline
    from flowyml.stacks.registry import set_active_stack

    set_active_stack("production")
    assert get_active_stack() is not None and get_active_stack().name == "production"  # type: ignore[union-attr]
    Pipeline("my_pipeline")
    assert StackRegistry().active_name() == "production"
