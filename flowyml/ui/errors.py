"""The dashboard's error tree: one root, :class:`UiError`."""

from __future__ import annotations

from flowyml.core.errors import FlowymlError


class UiError(FlowymlError):
    """The dashboard cannot start or cannot answer a request."""


class ArtifactNotFound(UiError):
    """No artifact is recorded under that id."""


class CompareError(UiError):
    """Two runs that cannot be compared."""


__all__ = ["ArtifactNotFound", "CompareError", "UiError"]
