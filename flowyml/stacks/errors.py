"""The stack package's error tree, rooted at :class:`StackError`.

Every error is one line (``str(err)``), ending in ``To fix: <hint>`` when a hint is known, so the
CLI can print it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowyml.core.errors import FlowymlError


class StackError(FlowymlError):
    """Root of every error raised by :mod:`flowyml.stacks`.

    ``str(err)`` ends the message with a full stop before ``To fix:`` so the line reads as two
    sentences (``... has no default. To fix: export X=...``).
    """

    def __str__(self) -> str:
        if self.hint and not self.message.endswith((".", "?", "!", ":")):
            return f"{self.message}. To fix: {self.hint}"
        return super().__str__()


@dataclass(frozen=True)
class ValidationProblem:
    """One problem found by ``Stack.validate()``.

    Attributes:
        path: Dotted field path inside the stack, e.g. ``"bucket_name"`` or
            ``"cluster.node_pools[0].resources.cpu"``.
        message: What is wrong, one sentence.
        hint: What to do about it, or ``None``.
    """

    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-able view."""
        return {"path": self.path, "message": self.message, "hint": self.hint}


class StackValidationError(StackError):
    """A stack failed ``validate()``; ``problems`` lists every problem found.

    Args:
        stack_name: The stack checked.
        problems: All problems found (at least one).
    """

    def __init__(self, stack_name: str, problems: Sequence[ValidationProblem]) -> None:
        self.stack_name = stack_name
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(str(p) for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"stack '{stack_name}' has {count} {noun}: {listed}.",
            hint=f"correct the fields named above, then run `flowyml stack validate {stack_name}`",
        )


class QuantityError(StackError, ValueError):
    """A Kubernetes-style quantity (``"500m"``, ``"32Gi"``) could not be parsed.

    Also a ``ValueError`` so pydantic validators report it as a field error.
    """


class SecretError(StackError):
    """A secret cannot be resolved (unset variable, reference held by another process)."""


class StackConfigError(StackError):
    """``flowyml.yaml`` or ``stacks/*.yaml`` is malformed; the message names file, line, field."""


class UnknownStackError(StackError):
    """No stack of that name is declared in the config files or registered."""


class StackRegistryError(StackError):
    """The registry file is unreadable, or an operation on it is refused."""
