"""The checks every preview and apply runs before planning: the declaration, then the program.

``stack validate`` runs ``Stack.validate()``; ``stack preview`` and ``stack up`` run the same
checks *and* the provider capability table (:mod:`flowyml.infra.capabilities`), all of them, so a
bad declaration is refused with every problem listed once, before any program runs or any plan is
printed. Nothing here needs credentials or the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowyml.stacks.errors import StackValidationError, ValidationProblem

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack


def preflight_problems(stack: Stack) -> list[ValidationProblem]:
    """Every problem of ``stack``: its own validation, then what its provider cannot build."""
    from flowyml.infra.capabilities import find_unsupported

    found = list(stack.validate(raise_on_error=False))
    for limitation, path in find_unsupported(stack):
        found.append(
            ValidationProblem(
                path,
                f"the {limitation.provider} program cannot build it: {limitation.reason}",
                limitation.hint,
            )
        )
    return found


def preflight(stack: Stack) -> None:
    """Refuse ``stack`` when :func:`preflight_problems` finds anything.

    Raises:
        StackValidationError: One error listing every problem (exit code 1).
    """
    found = preflight_problems(stack)
    if not found:
        return
    error = StackValidationError(stack.name, found)
    if len(found) > len(stack.validate(raise_on_error=False)):
        # `stack validate` checks the declaration only: point at a command that re-checks all.
        error.hint = (
            f"correct the fields named above, then run `flowyml stack preview {stack.name} "
            "--offline`"
        )
    raise error
