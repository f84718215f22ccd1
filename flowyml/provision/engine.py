"""The one interface every provisioning engine implements, and the result types it returns.

Engines are strategies handed to the CLI (``engine.up(stack, on_event)``); they share no base
class. Each returns the one :class:`~flowyml.core.plan.Plan` model, so pricing and rendering never
care which engine produced a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from flowyml.core.outputs import StackOutputs
from flowyml.core.plan import Plan
from flowyml.provision.events import Progress

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

OnEvent = Callable[[Progress], None]
"""Receives live progress while an engine works (one call per step start/finish/failure)."""

Precondition = Callable[[], None]
"""Called by ``up`` holding the stack's lock, before any change; raising stops the update
(how a saved plan is re-checked against a concurrent change)."""


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did and what it recorded.

    Attributes:
        plan: The changes made (``failed``/``cancelled`` filled when it went wrong).
        outputs: The stack's outputs after the update (also recorded on disk).
    """

    plan: Plan
    outputs: StackOutputs


@runtime_checkable
class Engine(Protocol):
    """Provisions one kind of stack.

    Every method takes the stack declaration; none prompts or prints (the CLI does that).
    """

    name: str

    def preview(self, stack: Stack) -> Plan:
        """What ``up`` would change, touching nothing."""
        ...

    def up(
        self,
        stack: Stack,
        on_event: OnEvent | None = None,
        *,
        precondition: Precondition | None = None,
    ) -> UpResult:
        """Create or update the stack's resources and record its outputs."""
        ...

    def destroy(self, stack: Stack, on_event: OnEvent | None = None) -> Plan:
        """Delete the stack's resources and its recorded outputs."""
        ...

    def refresh(self, stack: Stack) -> Plan:
        """Reconcile recorded state with what really exists."""
        ...

    def outputs(self, stack: Stack) -> StackOutputs:
        """The recorded outputs (raises ``StateError`` when the stack was never brought up)."""
        ...
