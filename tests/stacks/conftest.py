"""Fixtures for the stack tests: an isolated project directory and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

GUIDE_CONFIG = """\
# flowyml.yaml
stacks:
  local:
    type: local
    artifact_path: .flowyml/artifacts

  production:
    type: gcp
    project_id: ${GCP_PROJECT_ID}
    region: us-central1
    bucket_name: ${GCP_BUCKET}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory set as FLOWYML_PROJECT_DIR and cwd, with stack variables
    cleared."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(root))
    monkeypatch.chdir(root)
    for name in ("FLOWYML_STACK", "ENVIRONMENT", "GCP_PROJECT_ID", "GCP_BUCKET", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    yield root


@pytest.fixture
def guide_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project with the guide's flowyml.yaml and its variables set."""
    (project / "flowyml.yaml").write_text(GUIDE_CONFIG)
    monkeypatch.setenv("GCP_PROJECT_ID", "my-gcp-project")
    monkeypatch.setenv("GCP_BUCKET", "my-artifacts")
    return project
