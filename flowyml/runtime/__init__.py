"""Runtime adapters: artifact store, metadata store, executors and stack binding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowyml.runtime.errors import (
    ArtifactError,
    BindingError,
    MetadataError,
    RunNotFoundError,
    StackNotProvisionedError,
)

if TYPE_CHECKING:
    from flowyml.runtime.artifacts import FsspecArtifactStore
    from flowyml.runtime.binding import BoundStack, bind_stack
    from flowyml.runtime.metadata import SqlMetadataStore

__all__ = [
    "ArtifactError",
    "BindingError",
    "BoundStack",
    "FsspecArtifactStore",
    "MetadataError",
    "RunNotFoundError",
    "SqlMetadataStore",
    "StackNotProvisionedError",
    "bind_stack",
]

# Adapters pull in fsspec / SQLAlchemy: import them on first use, not with the package.
_LAZY = {
    "FsspecArtifactStore": "flowyml.runtime.artifacts",
    "SqlMetadataStore": "flowyml.runtime.metadata",
    "BoundStack": "flowyml.runtime.binding",
    "bind_stack": "flowyml.runtime.binding",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowyml.runtime' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
