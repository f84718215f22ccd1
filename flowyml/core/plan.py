"""The one Plan model shared by every engine, the cost estimator and every renderer.

Shaped like Terraform's JSON plan: a versioned envelope holding one :class:`ResourceChange` per
resource, keyed by a stable ``address`` (the Pulumi URN, or ``<type>::<name>`` for the local
engine), with ``actions`` as a tuple so that "is anything deleted?" is ``Action.DELETE in
change.actions``. A replace is ``(DELETE, CREATE)`` or ``(CREATE, DELETE)`` (create-before-delete).

Invariants:
- ``before`` / ``after`` hold resource inputs as the engine sees them (camelCase keys for Pulumi).
- Values listed in ``sensitive`` are never held in clear: engines replace them with ``"[secret]"``
  before building a change.
- Cost fields are filled by :mod:`flowyml.cost` (never by engines); ``None`` means unknown and is
  distinct from ``Decimal(0)`` (free).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

PLAN_FORMAT_VERSION = "1.0"
SECRET_MASK = "[secret]"


class Action(str, Enum):
    """One thing an engine does to a resource."""

    NOOP = "no-op"
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"

    def __str__(self) -> str:
        return self.value


Actions = tuple[Action, ...]

NOOP: Actions = (Action.NOOP,)
CREATE: Actions = (Action.CREATE,)
UPDATE: Actions = (Action.UPDATE,)
DELETE: Actions = (Action.DELETE,)
READ: Actions = (Action.READ,)
REPLACE: Actions = (Action.DELETE, Action.CREATE)
CREATE_BEFORE_DELETE: Actions = (Action.CREATE, Action.DELETE)


def is_replace(actions: Actions) -> bool:
    """True when ``actions`` replace a resource (both a delete and a create)."""
    return Action.DELETE in actions and Action.CREATE in actions


@dataclass(frozen=True)
class CostEstimate:
    """A monthly cost estimate for one resource, filled by :mod:`flowyml.cost`.

    Attributes:
        monthly: Fixed monthly USD, ``None`` when unknown (not priced).
        priced: False when the catalog does not know the type (never a silent $0).
        usage_rates: Usage-billed parts, unit -> USD per unit (e.g. ``"GB-month": 0.02``).
        monthly_range: (min, max) for autoscaling resources, else ``None``.
        notes: Human-readable notes on what the estimate assumes.
    """

    monthly: Decimal | None
    priced: bool = True
    usage_rates: Mapping[str, Decimal] = field(default_factory=dict)
    monthly_range: tuple[Decimal, Decimal] | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_free(self) -> bool:
        return self.priced and self.monthly == Decimal(0) and not self.usage_rates


@dataclass(frozen=True)
class ResourceChange:
    """What one engine will do (or did) to one resource.

    Attributes:
        address: Stable key (Pulumi URN or ``<type>::<name>``); never the display name alone.
        type: Provider type token, e.g. ``gcp:storage/bucket:Bucket``.
        name: The resource's logical name, for display.
        actions: What happens, e.g. ``(Action.CREATE,)`` or ``REPLACE``.
        before: Inputs recorded in state before the change (``None`` for a create).
        after: Desired inputs after the change (``None`` for a delete).
        after_unknown: Input/output paths known only after apply.
        sensitive: Input keys whose values are secrets (masked in before/after).
        replace_paths: Input paths that forced a replace.
        diff_keys: Input keys that differ between before and after.
        parent: Address of the parent component, if any.
        data_bearing: True for buckets, databases, registries and volumes: deleting loses data.
        cost_before: Monthly cost estimate before the change (filled by cost).
        cost_after: Monthly cost estimate after the change (filled by cost).
    """

    address: str
    type: str
    name: str
    actions: Actions
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    after_unknown: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    replace_paths: tuple[str, ...] = ()
    diff_keys: tuple[str, ...] = ()
    parent: str | None = None
    data_bearing: bool = False
    cost_before: CostEstimate | None = None
    cost_after: CostEstimate | None = None

    @property
    def is_noop(self) -> bool:
        return self.actions == NOOP

    @property
    def is_replace(self) -> bool:
        return is_replace(self.actions)

    @property
    def is_create(self) -> bool:
        return self.actions == CREATE

    @property
    def is_delete(self) -> bool:
        return self.actions == DELETE

    @property
    def is_update(self) -> bool:
        return self.actions == UPDATE

    @property
    def symbol(self) -> str:
        """Terraform-style marker: ``+`` create, ``~`` update, ``-/+`` replace, ``-`` delete."""
        if self.is_replace:
            return "+/-" if self.actions[0] == Action.CREATE else "-/+"
        return {
            Action.CREATE: "+",
            Action.UPDATE: "~",
            Action.DELETE: "-",
            Action.READ: "<=",
            Action.NOOP: " ",
        }[self.actions[0]]

    @property
    def verb(self) -> str:
        """A word for the change: create, update, replace, delete, read or no-op."""
        if self.is_replace:
            return "replace"
        return self.actions[0].value

    def with_costs(self, before: CostEstimate | None, after: CostEstimate | None) -> ResourceChange:
        """Return a copy carrying cost estimates (the model is frozen)."""
        return dataclasses.replace(self, cost_before=before, cost_after=after)


@dataclass(frozen=True)
class PlanSummary:
    """Counts of changes by kind."""

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    same: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update or self.replace or self.delete)

    def __str__(self) -> str:
        return (
            f"{self.create} to create, {self.update} to update, "
            f"{self.replace} to replace, {self.delete} to delete"
        )


@dataclass(frozen=True)
class Plan:
    """The changes one engine operation will make (or made) to one flowyml stack.

    Attributes:
        stack: The flowyml stack name.
        operation: ``preview``, ``up``, ``destroy`` or ``refresh``.
        engine: Which engine produced it: ``pulumi``, ``offline`` or ``local``.
        changes: One entry per resource, in the engine's order.
        format_version: Version of this envelope.
        diagnostics: Engine warnings and errors, already free of secrets.
        failed: Addresses whose operation failed (apply results only).
        cancelled: True when the engine reported a cancellation.
    """

    stack: str
    operation: str
    engine: str
    changes: tuple[ResourceChange, ...] = ()
    format_version: str = PLAN_FORMAT_VERSION
    diagnostics: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    cancelled: bool = False

    @property
    def summary(self) -> PlanSummary:
        counts = {"create": 0, "update": 0, "replace": 0, "delete": 0, "same": 0}
        for change in self.changes:
            if change.is_noop or change.actions == READ:
                counts["same"] += 1
            else:
                counts[change.verb] += 1
        return PlanSummary(**counts)

    @property
    def has_changes(self) -> bool:
        return self.summary.has_changes

    def by_address(self) -> dict[str, ResourceChange]:
        return {c.address: c for c in self.changes}

    def deletions(self) -> tuple[ResourceChange, ...]:
        """Changes that delete a resource (plain deletes and replaces)."""
        return tuple(c for c in self.changes if Action.DELETE in c.actions)

    def data_loss(self) -> tuple[ResourceChange, ...]:
        """Deletions of data-bearing resources: what a user must be warned about."""
        return tuple(c for c in self.deletions() if c.data_bearing)

    def with_changes(self, changes: Iterable[ResourceChange]) -> Plan:
        return dataclasses.replace(self, changes=tuple(changes))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money as strings of decimals; ``None`` for unknown)."""
        return {
            "format_version": self.format_version,
            "stack": self.stack,
            "operation": self.operation,
            "engine": self.engine,
            "summary": dataclasses.asdict(self.summary),
            "resource_changes": [_change_to_dict(c) for c in self.changes],
            "diagnostics": list(self.diagnostics),
            "failed": list(self.failed),
            "cancelled": self.cancelled,
        }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _cost_to_dict(cost: CostEstimate | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {
        "monthly": _money(cost.monthly),
        "priced": cost.priced,
        "usage_rates": {unit: str(rate) for unit, rate in cost.usage_rates.items()},
        "monthly_range": (
            None if cost.monthly_range is None else [str(v) for v in cost.monthly_range]
        ),
        "notes": list(cost.notes),
    }


def _change_to_dict(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": change.address,
        "type": change.type,
        "name": change.name,
        "actions": [a.value for a in change.actions],
        "before": None if change.before is None else dict(change.before),
        "after": None if change.after is None else dict(change.after),
        "after_unknown": list(change.after_unknown),
        "sensitive": list(change.sensitive),
        "replace_paths": list(change.replace_paths),
        "diff_keys": list(change.diff_keys),
        "parent": change.parent,
        "data_bearing": change.data_bearing,
        "cost_before": _cost_to_dict(change.cost_before),
        "cost_after": _cost_to_dict(change.cost_after),
    }
