"""The image a stack needs, from the stack itself (offline: plans only, no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.runtime.images import ImageError
from flowyml.runtime.images.for_stack import image_extras, stack_image
from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.components import (
    DockerConfig,
    GCRContainerRegistry,
    GCSArtifactStore,
    KubernetesExecutor,
    LocalArtifactStore,
    SQLiteMetadataStore,
)


def test_local_executor_needs_no_image(tmp_path: Path) -> None:
    stack = LocalStack(name="dev", artifact_path="a", metadata_path="m.db")
    result = stack_image(stack, project_dir=tmp_path, build=False)
    assert result.plan is None and result.reason and "local executor" in result.reason


def test_cluster_stack_without_registry_is_refused(tmp_path: Path) -> None:
    stack = Stack(
        "k",
        executor=KubernetesExecutor(),
        artifact_store=LocalArtifactStore(path="a"),
        metadata_store=SQLiteMetadataStore(path="m.db"),
    )
    with pytest.raises(ImageError) as info:
        stack_image(stack, project_dir=tmp_path, build=False)
    text = str(info.value)
    assert "\n" not in text and "no container registry" in text and "To fix:" in text


def test_cluster_stack_plans_its_registry_and_store_extras(tmp_path: Path) -> None:
    stack = Stack(
        "k",
        executor=KubernetesExecutor(),
        artifact_store=GCSArtifactStore(bucket="my-bucket"),
        metadata_store=SQLiteMetadataStore(path="m.db"),
        container_registry=GCRContainerRegistry(uri="gcr.io/my-project"),
        docker=DockerConfig(base_image="local/python3:bookworm"),
    )
    result = stack_image(stack, project_dir=tmp_path, build=False)
    assert result.plan is not None and result.image is None
    assert result.plan.reference.startswith("gcr.io/my-project/flowyml:")
    assert result.plan.extras == ("gcs",)
    assert result.to_dict()["plan"]["registry"] == "gcr.io/my-project"  # type: ignore[index]


@pytest.mark.parametrize(
    ("uri", "extras"),
    [
        ("gs://b/p", ("gcs",)),
        ("s3://b", ("s3",)),
        ("az://c", ("azure",)),
        ("file:///x", ()),
        (None, ()),
    ],
)
def test_store_extras(uri: str | None, extras: tuple[str, ...]) -> None:
    assert image_extras(uri) == extras
