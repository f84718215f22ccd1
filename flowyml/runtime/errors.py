"""The runtime's error tree.

``ArtifactError`` (payloads) and ``MetadataError`` (records) are the roots named in the
architecture contract; ``BindingError`` covers turning a stack into live adapters. Every
message is one line; URLs in messages are masked (no passwords).
"""

from __future__ import annotations

from flowyml.core.errors import FlowymlError


class ArtifactError(FlowymlError):
    """An artifact could not be saved, found or loaded."""


class MetadataError(FlowymlError):
    """The metadata store could not be opened, migrated, read or written."""


class RunNotFoundError(MetadataError):
    """No run matches the given id (or id prefix)."""


class BindingError(FlowymlError):
    """A stack could not be bound to runtime adapters."""


class StackNotProvisionedError(BindingError):
    """A cloud stack has no recorded outputs: it was never provisioned."""


__all__ = [
    "ArtifactError",
    "BindingError",
    "MetadataError",
    "RunNotFoundError",
    "StackNotProvisionedError",
]
