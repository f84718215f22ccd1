"""The base model of every component: immutable, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from flowyml.stacks.errors import ValidationProblem


class Component(BaseModel):
    """Base of every stack component and provisioning spec (frozen, ``extra="forbid"``)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    def problems(self, path: str) -> list[ValidationProblem]:
        """Problems ``Stack.validate()`` reports for this component (none by default).

        Args:
            path: Field path of this component inside the stack, prefixed to each problem.
        """
        return []


def problem(path: str, message: str | None, hint: str | None = None) -> list[ValidationProblem]:
    """``[ValidationProblem(path, message, hint)]`` when a rule returned a message, else ``[]``."""
    return [] if message is None else [ValidationProblem(path, message, hint)]
