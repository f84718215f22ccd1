"""Artifact payloads on any fsspec filesystem, written atomically, loaded back as their type."""

from __future__ import annotations

from flowyml.runtime.artifacts.materializers import (
    Materializer,
    MaterializerRegistry,
    default_registry,
)
from flowyml.runtime.artifacts.store import FsspecArtifactStore

__all__ = ["FsspecArtifactStore", "Materializer", "MaterializerRegistry", "default_registry"]
