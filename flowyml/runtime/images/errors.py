"""The images package's one error: an image cannot be planned, built, found or pushed."""

from __future__ import annotations

from flowyml.core.errors import FlowymlError

__all__ = ["ImageError"]


class ImageError(FlowymlError):
    """An image for a stack's steps cannot be planned, built, found or pushed."""
