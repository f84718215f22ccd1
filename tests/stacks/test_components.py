"""Component declarations: Docker forms, resources consistency, store URIs and URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flowyml.stacks.components import (
    AzureBlobStore,
    CloudSQLMetadataStore,
    DockerConfig,
    DockerHubRegistry,
    GCSArtifactStore,
    LocalArtifactStore,
    MySQLMetadataStore,
    PostgreSQLMetadataStore,
    ResourceConfig,
    S3ArtifactStore,
    SQLiteMetadataStore,
)
from flowyml.stacks.errors import StackError


def _one_message(exc: ValidationError) -> str:
    errors = exc.errors()
    assert len(errors) == 1
    message = str(errors[0]["msg"])
    assert "\n" not in message
    return message


def test_docker_three_forms() -> None:
    assert DockerConfig(image="gcr.io/my-project/ml-pipeline:v1.0").form == "image"
    built = DockerConfig(dockerfile="./Dockerfile", build_context=".", build_args={"A": "1"})
    assert built.form == "dockerfile" and built.context == "."
    thin = DockerConfig(
        base_image="python:3.11-slim", requirements=["pandas>=2"], env_vars={"X": "1"}
    )
    assert thin.form == "base_image"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "give exactly one of image, dockerfile or base_image (got none of them)"),
        ({"image": "a:1", "base_image": "python:3.11"}, "got image and base_image"),
        (
            {"image": "a:1", "build_args": {"A": "1"}},
            "build_context and build_args go with dockerfile",
        ),
        ({"dockerfile": "D", "requirements": ["x"]}, "requirements go with base_image"),
        ({"image": "Not An Image"}, "is not an image reference"),
        ({"base_image": "python:3.11", "env_vars": {"1BAD": "x"}}, "not a valid variable name"),
    ],
)
def test_docker_bad_forms_are_one_clear_line(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        DockerConfig(**kwargs)
    assert fragment in _one_message(info.value)


def test_docker_refuses_unknown_field() -> None:
    with pytest.raises(ValidationError, match="extra"):
        DockerConfig(image="a:1", imagee="b")  # type: ignore[call-arg]


def test_resources_quantities_checked_at_construction() -> None:
    with pytest.raises(ValidationError) as info:
        ResourceConfig(memory="32GB")
    assert "did you mean '32G'" in _one_message(info.value)
    with pytest.raises(ValidationError):
        ResourceConfig(cpu="eight")
    assert ResourceConfig(cpu=8, memory="1.5Gi").cpu_cores() == 8  # YAML ints accepted
    assert ResourceConfig(disk_size="100Gi").disk_bytes() == 100 * 2**30


def test_resource_problems() -> None:
    paths = {p.path for p in ResourceConfig(gpu_count=2).problems("r")}
    assert paths == {"r.gpu_count"}
    assert {p.path for p in ResourceConfig(gpu="nvidia-tesla-t4").problems("r")} == {"r.gpu"}
    small = ResourceConfig(cpu="8", memory="32Gi", machine_type="n1-standard-4").problems("r")
    assert [p.message for p in small] == [
        "n1-standard-4 has 4 vCPUs, fewer than cpu=8",
        "n1-standard-4 has 15Gi of memory, less than memory=32Gi (32Gi)",
    ]
    assert (
        ResourceConfig(machine_type="n1-standard-3")
        .problems("r")[0]
        .message.startswith("'n1-standard-3' is not a known size")
    )
    assert ResourceConfig(machine_type="custom-thing").problems("r") == []
    gpus = ResourceConfig(gpu="nvidia-tesla-t4", gpu_count=4, machine_type="g4dn.xlarge")
    assert "1 GPU(s), fewer than gpu_count=4" in gpus.problems("r")[0].message
    bounds = ResourceConfig(autoscaling=True, min_nodes=5, max_nodes=2).problems("r")
    assert [p.path for p in bounds] == ["r.min_nodes"]
    assert ResourceConfig(min_nodes=1, max_nodes=3).problems("r")[0].path == "r.autoscaling"
    assert ResourceConfig(cpu="4", memory="15Gi", machine_type="n1-standard-4").problems("r") == []
    assert ResourceConfig(cpu="4", memory="16Gi", machine_type="m5.xlarge").problems("r") == []


def test_local_paths_resolve_against_project_dir(project: Path) -> None:
    store = LocalArtifactStore(path="arts")
    assert store.uri == (project / "arts").as_uri()
    assert SQLiteMetadataStore().sqlalchemy_url() == f"sqlite:///{project}/.flowyml/metadata.db"
    assert LocalArtifactStore(path="/abs/x").uri == "file:///abs/x"


def test_cloud_store_uris() -> None:
    assert GCSArtifactStore(bucket="b").uri == "gs://b"
    assert GCSArtifactStore(bucket="b", prefix="/runs/").uri == "gs://b/runs"
    assert S3ArtifactStore(bucket="b", prefix="p").uri == "s3://b/p"
    assert AzureBlobStore(container="c", prefix="p").uri == "az://c/p"
    assert DockerHubRegistry(namespace="myorg").uri == "docker.io/myorg"


def test_server_store_urls_mask_password(monkeypatch: pytest.MonkeyPatch) -> None:
    pg = PostgreSQLMetadataStore(host="127.0.0.1", database="test", user="u", password="p@ss")
    assert pg.sqlalchemy_url() == "postgresql+psycopg://u:***@127.0.0.1:5432/test"
    assert pg.sqlalchemy_url(reveal=True) == "postgresql+psycopg://u:p%40ss@127.0.0.1:5432/test"
    assert "p@ss" not in repr(pg)
    my = MySQLMetadataStore(url="mysql://root:pw@127.0.0.1/test")
    assert my.port == 3306
    assert my.sqlalchemy_url() == "mysql+pymysql://root:***@127.0.0.1/test"
    assert my.sqlalchemy_url(reveal=True) == "mysql+pymysql://root:pw@127.0.0.1/test"
    ref = PostgreSQLMetadataStore(host="h", database="d", user="u", password="${DB_PASSWORD}")
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    assert ref.sqlalchemy_url() == "postgresql+psycopg://u:***@h:5432/d"
    with pytest.raises(StackError, match="DB_PASSWORD"):
        ref.sqlalchemy_url(reveal=True)
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    assert ref.sqlalchemy_url(reveal=True) == "postgresql+psycopg://u:s3cret@h:5432/d"


def test_server_store_needs_url_or_host() -> None:
    with pytest.raises(ValidationError, match="give url, or host and database"):
        PostgreSQLMetadataStore()
    with pytest.raises(ValidationError, match="not both"):
        PostgreSQLMetadataStore(url="postgresql://h/d", host="h", database="d")
    rds = PostgreSQLMetadataStore(provisioned_by="rds")
    with pytest.raises(StackError, match="known only after provisioning"):
        rds.sqlalchemy_url()
    with pytest.raises(StackError, match="known only after provisioning"):
        CloudSQLMetadataStore().sqlalchemy_url()


def test_components_are_frozen() -> None:
    store = GCSArtifactStore(bucket="b")
    with pytest.raises(ValidationError):
        store.bucket = "other"  # type: ignore[misc]
