"""Fixtures of the orchestrator tests: a project holding ``pipelines.py`` (stacks: helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_env import base_image, docker_client, local_registry  # noqa: F401  (fixtures)

# gcs_emulator comes from tests/runtime/conftest.py: importing it here again would start a second
# session emulator whose STORAGE_EMULATOR_HOST outlives this package's tests.
from flowyml.runtime.binding import clear_cache

# flowyml's sources frozen for the session (they go into every image tag), as the image tests do.
from runtime.images.conftest import frozen_flowyml_source  # noqa: F401

HERE = Path(__file__).parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh project (flowyml.yaml + a copy of ``pipelines.py``); cwd and
    ``FLOWYML_PROJECT_DIR`` point at it, the code cache is the test's own."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "flowyml.yaml").write_text("stacks: {}\n", encoding="utf-8")
    (root / "pipelines.py").write_text((HERE / "pipelines.py").read_text(), encoding="utf-8")
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(root))
    monkeypatch.setenv("FLOWYML_CODE_CACHE", str(tmp_path / "code-cache"))
    monkeypatch.chdir(root)
    yield root
    clear_cache()
