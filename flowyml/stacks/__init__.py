"""Stack declarations: ``Stack``, ``LocalStack`` and their components (no cloud SDK imported).

Cloud stacks live in ``flowyml.stacks.gcp``, ``flowyml.stacks.aws`` and ``flowyml.stacks.k8s``;
components in ``flowyml.stacks.components``; ``flowyml.yaml`` loading in
``flowyml.stacks.config``; the registry of known and active stacks in ``flowyml.stacks.registry``.
"""

from flowyml.stacks.base import Stack
from flowyml.stacks.errors import (
    StackConfigError,
    StackError,
    StackValidationError,
    UnknownStackError,
    ValidationProblem,
)
from flowyml.stacks.local import LocalStack

__all__ = [
    "LocalStack",
    "Stack",
    "StackConfigError",
    "StackError",
    "StackValidationError",
    "UnknownStackError",
    "ValidationProblem",
]
