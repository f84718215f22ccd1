"""The metadata store: runs, steps, artifacts and lineage on SQLAlchemy with Alembic migrations."""

from __future__ import annotations

from flowyml.runtime.metadata.engine import mask_url
from flowyml.runtime.metadata.store import SqlMetadataStore

__all__ = ["SqlMetadataStore", "mask_url"]
