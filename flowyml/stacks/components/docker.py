"""How a stack's steps are containerised: one of three mutually exclusive forms.

1. ``image``: a pre-built image.
2. ``dockerfile`` (+ ``build_context``, ``build_args``): build from a Dockerfile.
3. ``base_image`` (+ ``requirements``): build a thin image that pip-installs requirements.

``env_vars`` apply to every form (they are set in the running container).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from flowyml.stacks.components._base import Component

__all__ = ["DockerConfig"]

# name[:tag][@digest], with an optional registry host (with port) and path components.
_IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DockerConfig(Component):
    """Docker settings of a stack (see the module docstring for the three forms).

    Attributes:
        image: Pre-built image reference, e.g. ``"gcr.io/my-project/ml-pipeline:v1.0"``.
        dockerfile: Path of a Dockerfile to build.
        build_context: Build context directory (with ``dockerfile``; default ``"."``).
        build_args: ``--build-arg`` values (with ``dockerfile``).
        base_image: Base image to install ``requirements`` into.
        requirements: pip requirement specifiers (with ``base_image``).
        env_vars: Environment variables set in the container (any form).
    """

    image: str | None = None
    dockerfile: str | None = None
    build_context: str | None = None
    build_args: dict[str, str] = Field(default_factory=dict)
    base_image: str | None = None
    requirements: list[str] = Field(default_factory=list)
    env_vars: dict[str, str] = Field(default_factory=dict)

    @field_validator("image", "base_image")
    @classmethod
    def _check_image(cls, value: str | None) -> str | None:
        if value is not None and not _IMAGE_RE.match(value):
            raise ValueError(
                f"{value!r} is not an image reference like 'registry/name:tag' (lowercase name)"
            )
        return value

    @field_validator("build_args", "env_vars")
    @classmethod
    def _check_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a valid variable name (letters, digits, _)")
        return value

    @field_validator("requirements")
    @classmethod
    def _check_requirements(cls, value: list[str]) -> list[str]:
        for req in value:
            if not req.strip():
                raise ValueError("requirements must not contain empty strings")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> DockerConfig:
        forms = [
            name
            for name, given in (
                ("image", self.image),
                ("dockerfile", self.dockerfile),
                ("base_image", self.base_image),
            )
            if given
        ]
        if len(forms) != 1:
            shown = " and ".join(forms) if forms else "none of them"
            raise ValueError(f"give exactly one of image, dockerfile or base_image (got {shown})")
        if (self.build_context is not None or self.build_args) and not self.dockerfile:
            raise ValueError("build_context and build_args go with dockerfile only")
        if self.requirements and not self.base_image:
            raise ValueError("requirements go with base_image only")
        return self

    @property
    def form(self) -> Literal["image", "dockerfile", "base_image"]:
        """Which of the three forms this is."""
        if self.image:
            return "image"
        if self.dockerfile:
            return "dockerfile"
        return "base_image"

    @property
    def context(self) -> str:
        """The build context (``"."`` when a Dockerfile is given without one)."""
        return self.build_context or "."
