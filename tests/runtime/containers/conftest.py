"""Fixtures of the container executor tests: the real Docker engine, registry and base image,
and a project directory holding the pipeline files the containers import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_env import (  # noqa: F401  (pytest fixtures)
    base_image,
    docker_client,
    local_registry,
    ssh_docker_engine,
    ssh_server,
)

from flowyml.runtime.binding import clear_cache

# flowyml's sources frozen for the session (they go into every image tag), as the image tests do.
from runtime.images.conftest import frozen_flowyml_source  # noqa: F401

HERE = Path(__file__).parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh project (flowyml.yaml) holding a copy of ``pipelines.py``; the cwd and
    ``FLOWYML_PROJECT_DIR`` point at it."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "flowyml.yaml").write_text("stacks: {}\n", encoding="utf-8")
    (root / "pipelines.py").write_text((HERE / "pipelines.py").read_text(), encoding="utf-8")
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(root))
    monkeypatch.chdir(root)
    yield root
    clear_cache()
