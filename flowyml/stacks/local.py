"""``LocalStack``: everything on this machine; the default when no stack is given."""

from __future__ import annotations

from typing import Any

from flowyml.stacks.base import Stack, derived_field
from flowyml.stacks.components import (
    ArtifactStore,
    Executor,
    LocalArtifactStore,
    LocalExecutor,
    MetadataStore,
    SQLiteMetadataStore,
)

__all__ = ["LocalStack"]


class LocalStack(Stack):
    """Local executor, a local artifact directory and a SQLite metadata file.

    Relative paths resolve against the project directory (``flowyml.core.paths.project_dir()``)
    when used, so the declaration stays portable.

    Attributes:
        artifact_path: Artifact directory.
        metadata_path: SQLite database file.
    """

    stack_type = "local"
    example = 'LocalStack(name="local", artifact_path=".flowyml/artifacts")'
    needs_provisioning = False

    name: str = "local"
    artifact_path: str = ".flowyml/artifacts"
    metadata_path: str = ".flowyml/metadata.db"
    executor: Executor = derived_field()
    artifact_store: ArtifactStore = derived_field()
    metadata_store: MetadataStore = derived_field()

    def derived_components(self) -> dict[str, Any]:
        return {
            "executor": LocalExecutor(),
            "artifact_store": LocalArtifactStore(path=self.artifact_path),
            "metadata_store": SQLiteMetadataStore(path=self.metadata_path),
        }
