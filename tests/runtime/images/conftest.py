"""Fixtures of the image tests: the real Docker engine, the local registry, the base image."""

from docker_env import (  # noqa: F401  (pytest fixtures)
    base_image,
    docker_client,
    local_registry,
    ssh_docker_engine,
    ssh_server,
)
