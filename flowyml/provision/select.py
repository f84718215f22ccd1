"""Which engine handles a stack: the local engine, the Pulumi engine or the offline planner.

The rule, in one place: local stacks -> :class:`LocalEngine`; cloud stacks -> :class:`PulumiEngine`
when the Pulumi CLI is on PATH; a cloud *preview* falls back to the :class:`OfflinePlanner` (with a
note saying so) when it is not, while up, destroy and refresh refuse with
:class:`PulumiNotInstalledError`. Engines are imported only when chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowyml.provision.errors import PulumiNotInstalledError, UnsupportedStackError
from flowyml.provision.state import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

NO_CLI_NOTE = (
    "note: the Pulumi CLI is not installed; previewing offline (program under mocks, "
    "diffed against the last recorded state)"
)


@dataclass(frozen=True)
class Choice:
    """The chosen engine and a note for the user when it is a fallback."""

    engine: Any
    note: str | None = None


def _pulumi_available() -> bool:
    from flowyml.provision.pulumi_engine import pulumi_cli_available

    return pulumi_cli_available()


def engine_for(
    stack: Stack,
    operation: str,
    *,
    offline: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Choice:
    """The engine for ``operation`` (``preview``, ``up``, ``destroy``, ``refresh``) on ``stack``.

    Raises:
        UnsupportedStackError: A custom stack (nothing to provision).
        PulumiNotInstalledError: up/destroy/refresh of a cloud stack without the Pulumi CLI.
    """
    if stack.stack_type == "local":
        from flowyml.provision.local_engine import LocalEngine

        return Choice(LocalEngine(lock_timeout=lock_timeout))
    if not stack.needs_provisioning:
        raise UnsupportedStackError(
            f"stack {stack.name} is a {stack.stack_type} stack: it declares existing services "
            "and has nothing to provision.",
            hint=f"run pipelines on it directly (`flowyml run FILE --stack {stack.name}`)",
        )
    if offline or not _pulumi_available():
        if operation != "preview":
            raise PulumiNotInstalledError(stack=stack.name)
        from flowyml.provision.offline import OfflinePlanner

        return Choice(OfflinePlanner(), None if offline else NO_CLI_NOTE)
    from flowyml.provision.pulumi_engine import PulumiEngine

    return Choice(PulumiEngine(lock_timeout=lock_timeout))
