"""Images built for real: dockerd, the local registry on 127.0.0.1:5000, the debootstrap base.

Two images are built once per session (slow part: ~20 s the first time wheels are downloaded,
a few seconds after) under a repository unique to the session, so every session really builds
and pushes; the tests share them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docker_env import registry_tags

from flowyml.runtime.images import ImageError, ImageRef, ensure_image, plan_image
from flowyml.runtime.images.source import flowyml_source
from flowyml.stacks.components import DockerConfig

pytestmark = pytest.mark.docker


@dataclass
class Built:
    project: Path
    repository: str
    registry: str
    base_config: DockerConfig
    base: ImageRef
    dockerfile_config: DockerConfig
    dockerfile: ImageRef
    progress: list[str]


@pytest.fixture(scope="module")
def built(
    docker_client: Any,
    local_registry: str,
    base_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Built]:
    project = tmp_path_factory.mktemp("project")
    (project / "pipeline.py").write_text("VALUE = 1\n")
    (project / "docker").mkdir()
    (project / "docker" / "Dockerfile").write_text(
        f'FROM {base_image}\nARG GREETING\nRUN echo "$GREETING" > /greeting\n'
    )
    repository = f"flowyml-test/{uuid.uuid4().hex[:10]}"
    progress: list[str] = []
    base_config = DockerConfig(base_image=base_image, requirements=["six==1.16.0"])
    dockerfile_config = DockerConfig(
        dockerfile="docker/Dockerfile", build_context="docker", build_args={"GREETING": "hello"}
    )
    common = {
        "client": docker_client,
        "registry": local_registry,
        "project_dir": project,
        "repository": repository,
        "progress": progress.append,
    }
    base = ensure_image(base_config, **common)  # type: ignore[arg-type]
    dockerfile = ensure_image(dockerfile_config, **common)  # type: ignore[arg-type]
    yield Built(
        project,
        repository,
        local_registry,
        base_config,
        base,
        dockerfile_config,
        dockerfile,
        progress,
    )
    for ref in (base.reference, dockerfile.reference, f"{dockerfile.reference}-dockerfile"):
        with contextlib.suppress(Exception):  # already gone: nothing to clean
            docker_client.images.remove(ref, force=True)


def _run(client: Any, image: str, script: str) -> str:
    out = client.containers.run(image, ["sh", "-c", script], remove=True, network_mode="none")
    return bytes(out).decode().strip()


def test_python3_only_base_gets_flowyml_and_requirements(built: Built, docker_client: Any) -> None:
    assert built.base.built and built.base.pushed and built.base.digest
    out = _run(
        docker_client,
        built.base.reference,
        "python3 -c 'import flowyml, six; print(flowyml.__version__, six.__version__)'",
    )
    assert out == f"{flowyml_source().version} 1.16.0"
    labels = docker_client.images.get(built.base.reference).labels
    assert labels["org.flowyml.version"] == flowyml_source().version
    # The source digest it was built from (not compared with now: others edit this checkout).
    assert len(labels["org.flowyml.source"]) == 24


def test_dockerfile_image_keeps_the_users_layers(built: Built, docker_client: Any) -> None:
    assert built.dockerfile.built and built.dockerfile.pushed
    out = _run(
        docker_client, built.dockerfile.reference, "cat /greeting; python3 -c 'import flowyml'"
    )
    assert out == "hello"


def test_progress_shows_build_steps_and_pushed_layers(built: Built) -> None:
    assert any(line.startswith("build: Step 1/") for line in built.progress)
    assert any(line.startswith("push: ") and line.endswith("Pushed") for line in built.progress)
    assert f"built {built.base.reference}" in built.progress


def test_registry_holds_the_pushed_tags(built: Built) -> None:
    tags = registry_tags(built.repository, built.registry)
    for ref in (built.base, built.dockerfile):
        assert ref.reference.rpartition(":")[2] in tags


def test_code_only_change_builds_nothing(built: Built, docker_client: Any) -> None:
    (built.project / "pipeline.py").write_text("VALUE = 2  # changed code, same dependencies\n")
    (built.project / "extra_module.py").write_text("X = 1\n")
    for config, first in (
        (built.base_config, built.base),
        (built.dockerfile_config, built.dockerfile),
    ):
        again = ensure_image(
            config,
            client=docker_client,
            registry=built.registry,
            project_dir=built.project,
            repository=built.repository,
        )
        assert (again.reference, again.built, again.pushed) == (first.reference, False, False)


def test_requirement_change_gives_a_new_tag(built: Built) -> None:
    changed = built.base_config.model_copy(update={"requirements": ["six==1.17.0"]})
    plan = plan_image(
        changed, registry=built.registry, project_dir=built.project, repository=built.repository
    )
    assert plan.reference != built.base.reference
    assert plan.tag not in registry_tags(built.repository, built.registry)


def test_image_only_in_the_registry_is_not_rebuilt(built: Built, docker_client: Any) -> None:
    docker_client.images.remove(built.base.reference)
    again = ensure_image(
        built.base_config,
        client=docker_client,
        registry=built.registry,
        project_dir=built.project,
        repository=built.repository,
    )
    assert (again.built, again.pushed, again.digest) == (False, False, built.base.digest)
    docker_client.images.pull(built.base.reference)


def test_user_image_is_used_as_is(built: Built, docker_client: Any) -> None:
    ref = ensure_image(
        DockerConfig(image=built.base.reference, env_vars={"MODE": "x"}),
        client=docker_client,
        registry=built.registry,
        project_dir=built.project,
    )
    assert (ref.reference, ref.built, ref.pushed, ref.environment) == (
        built.base.reference,
        False,
        False,
        {"MODE": "x"},
    )


def test_missing_image_is_one_line(built: Built, docker_client: Any) -> None:
    missing = f"{built.registry}/{built.repository}/missing:nope"
    with pytest.raises(ImageError) as info:
        ensure_image(
            DockerConfig(image=missing),
            client=docker_client,
            registry=built.registry,
            project_dir=built.project,
        )
    text = str(info.value)
    assert "\n" not in text and missing in text and "To fix:" in text


def test_user_image_without_flowyml_is_refused(
    docker_client: Any, base_image: str, tmp_path: Path
) -> None:
    with pytest.raises(ImageError, match="has no flowyml"):
        ensure_image(
            DockerConfig(image=base_image),
            client=docker_client,
            registry=None,
            project_dir=tmp_path,
        )


def test_unknown_requirement_is_one_line(built: Built, docker_client: Any) -> None:
    config = DockerConfig(
        base_image=built.base_config.base_image, requirements=["flowyml-no-such-package-x==0.0.1"]
    )
    with pytest.raises(ImageError) as info:
        ensure_image(
            config,
            client=docker_client,
            registry=built.registry,
            project_dir=built.project,
            repository=built.repository,
        )
    text = str(info.value)
    assert "\n" not in text and "flowyml-no-such-package-x" in text and "To fix:" in text


def test_ssh_engine_sees_the_same_image(built: Built, ssh_docker_engine: str) -> None:
    import docker

    remote = docker.DockerClient(base_url=ssh_docker_engine, timeout=120)
    try:
        again = ensure_image(
            built.base_config,
            client=remote,
            registry=built.registry,
            project_dir=built.project,
            repository=built.repository,
        )
    finally:
        remote.close()
    assert (again.reference, again.built, again.pushed) == (built.base.reference, False, False)
