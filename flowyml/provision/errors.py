"""The provisioning error tree: every failure of an engine becomes one of these.

``ProvisionError`` is the root (deriving from :class:`flowyml.core.errors.FlowymlError`); the
Pulumi engine classifies the Automation API's exceptions into the children here, in one place, so
the CLI prints one line and never a Pulumi traceback.
"""

from __future__ import annotations

from flowyml.core.errors import FlowymlError


class ProvisionError(FlowymlError):
    """Root of every error raised by :mod:`flowyml.provision`."""


class PulumiNotInstalledError(ProvisionError):
    """The Pulumi CLI (or the ``pulumi`` Python SDK) needed for this operation is missing."""

    def __init__(self, what: str = "the Pulumi CLI", *, stack: str = "NAME") -> None:
        super().__init__(
            f"{what} is not installed.",
            hint=(
                "install it (https://www.pulumi.com/docs/install/ for the CLI, "
                "`pip install 'flowyml[pulumi]'` for the SDK); "
                f"`flowyml stack preview {stack} --offline` works without it."
            ),
        )


class StackLockedError(ProvisionError):
    """Another update (or destroy) of the same stack holds its lock."""

    def __init__(self, stack: str, detail: str | None = None) -> None:
        message = f"stack {stack} is locked by another update"
        if detail:
            message += f" ({detail})"
        super().__init__(
            message + ".",
            hint="wait for it to finish, then run the command again",
        )
        self.stack = stack


class ProgramError(ProvisionError):
    """The stack's infrastructure program raised while being evaluated."""


class UpdateFailedError(ProvisionError):
    """The engine ran but one or more resource operations failed.

    Attributes:
        plan: The plan of what was attempted, with ``failed`` addresses filled.
    """

    def __init__(
        self, message: str, *, plan: object | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.plan = plan


class StateError(ProvisionError):
    """Recorded state (outputs, checkpoint, passphrase) is missing, unreadable or corrupt."""


class UnsupportedStackError(ProvisionError):
    """No engine knows how to provision this kind of stack."""


class ConfirmationRequiredError(ProvisionError):
    """A change needs the user's consent and there is no terminal to ask on."""

    def __init__(self, operation: str, stack: str) -> None:
        super().__init__(
            f"refusing to {operation} stack {stack} without confirmation: no terminal to ask on.",
            hint=f"review the plan above, then run `flowyml stack {operation} {stack} --yes`",
        )


class GuardrailError(ProvisionError):
    """``stack check`` (or ``preview --check``) found error-severity guardrail findings.

    Its own exit code (4), so CI tells "the plan is unsafe" from "over budget" (3) and from any
    other failure (1).
    """

    exit_code = 4


class SavedPlanError(ProvisionError):
    """A saved plan (``preview --out``) cannot be applied: unreadable, another stack's, or stale."""
