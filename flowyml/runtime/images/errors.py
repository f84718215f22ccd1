"""The images package's one error: an image cannot be planned, built, found or pushed."""

from __future__ import annotations

from typing import Any

from flowyml.core.errors import FlowymlError

__all__ = ["ImageError", "import_docker"]


class ImageError(FlowymlError):
    """An image for a stack's steps cannot be planned, built, found or pushed."""


def import_docker() -> Any:
    """The docker SDK, or a one-line error saying how to install it."""
    try:
        import docker
        import docker.errors
        import docker.utils.build
    except ImportError:
        raise ImageError(
            "images need the docker SDK, which is not installed",
            hint="pip install 'flowyml[docker]'.",
        ) from None
    return docker
