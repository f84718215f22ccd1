"""The Docker test environment itself: what every container test here relies on."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.docker


def test_base_image_has_python3_but_no_python(docker_client: Any, base_image: str) -> None:
    out = docker_client.containers.run(
        base_image,
        [
            "sh",
            "-c",
            "python3 -c 'import sys, venv; print(sys.version_info[:2])'; command -v python || echo none",
        ],
        remove=True,
        network_mode="none",
    )
    assert out.decode().split() == ["(3,", "11)", "none"]


def test_ssh_engine_reaches_the_same_docker(ssh_docker_engine: str, docker_client: Any) -> None:
    import docker

    remote = docker.DockerClient(base_url=ssh_docker_engine, timeout=60)
    try:
        assert remote.info()["ID"] == docker_client.info()["ID"]
    finally:
        remote.close()
