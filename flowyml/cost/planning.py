"""Price a :class:`~flowyml.core.plan.Plan` and total it.

Invariants:
- ``price_plan`` fills ``cost_before`` from ``change.before`` and ``cost_after`` from
  ``change.after``; a side with no inputs (``before`` of a create, ``after`` of a delete) stays
  ``None``, meaning "no resource", and counts as $0 in totals. Reads (data sources) are not priced.
- A change with any side not priced is left out of *both* totals (so the delta stays honest) and
  listed by name in :attr:`CostSummary.not_priced`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flowyml.core.plan import READ, CostEstimate, Plan, ResourceChange
from flowyml.cost.estimator import estimate_resource
from flowyml.cost.estimator import usage_included as usage_included_in
from flowyml.cost.prices import Catalog
from flowyml.cost.usage import Usage


def price_plan(
    plan: Plan,
    region: str | None = None,
    usage: Usage | None = None,
    *,
    catalog: Catalog | None = None,
) -> Plan:
    """Return a copy of ``plan`` with ``cost_before`` / ``cost_after`` filled on every change.

    Args:
        plan: The plan from any engine.
        region: Region for resources whose inputs carry none (the stack's region).
        usage: Usage assumptions (``load_usage("flowyml-usage.yaml")``).
        catalog: The price catalog; the packaged one by default.
    """
    return plan.with_changes(price_change(c, region, usage, catalog=catalog) for c in plan.changes)


def price_change(
    change: ResourceChange,
    region: str | None = None,
    usage: Usage | None = None,
    *,
    catalog: Catalog | None = None,
) -> ResourceChange:
    """Price one change (see :func:`price_plan`)."""
    if change.actions == READ:
        return change.with_costs(None, None)

    def estimate(inputs: Any) -> CostEstimate | None:
        if inputs is None:
            return None
        return estimate_resource(
            change.type,
            inputs,
            region,
            usage,
            address=change.address,
            name=change.name,
            catalog=catalog,
        )

    return change.with_costs(estimate(change.before), estimate(change.after))


def is_priced(change: ResourceChange) -> bool:
    """True when every present side of the change has a known monthly cost."""
    sides = [c for c in (change.cost_before, change.cost_after) if c is not None]
    return all(c.priced and c.monthly is not None for c in sides)


def change_delta(change: ResourceChange) -> Decimal | None:
    """Monthly ``after - before`` of one change (absent side = $0); ``None`` when not priced."""
    if not is_priced(change):
        return None
    return _monthly(change.cost_after) - _monthly(change.cost_before)


def _monthly(cost: CostEstimate | None) -> Decimal:
    return Decimal(0) if cost is None or cost.monthly is None else cost.monthly


def _costs_nothing(cost: CostEstimate) -> bool:
    """Free in itself: $0 now, nothing usage-billed, and no autoscaling range above $0.

    An autoscaling pool at zero nodes costs $0 now but not at its maximum: it is not "free".
    """
    return cost.is_free and (cost.monthly_range is None or cost.monthly_range[1] == 0)


def _current(change: ResourceChange) -> CostEstimate | None:
    return change.cost_after if change.cost_after is not None else change.cost_before


@dataclass(frozen=True)
class CostSummary:
    """Monthly totals of a priced plan.

    Attributes:
        baseline: Total of the priced resources before the plan.
        new: Total of the priced resources after the plan.
        new_range: (min, max) of ``new`` when autoscaling resources are in the plan.
        priced: Names of the resources included in the totals.
        free: Names of resources that cost nothing in themselves.
        not_priced: Names of resources left out of the totals, with why in ``reasons``.
        usage_billed: Names of resources with usage-billed parts (per GB-month...) that no
            usage file gave a quantity for: their usage is *not* in the totals.
        usage_included: Names of resources whose usage-billed parts a usage file turned into
            monthly amounts that *are* in the totals.
        reasons: Name -> why it is not priced.
    """

    baseline: Decimal
    new: Decimal
    new_range: tuple[Decimal, Decimal] | None = None
    priced: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    not_priced: tuple[str, ...] = ()
    usage_billed: tuple[str, ...] = ()
    usage_included: tuple[str, ...] = ()
    reasons: tuple[tuple[str, str], ...] = ()

    @property
    def delta(self) -> Decimal:
        """``new - baseline``."""
        return self.new - self.baseline

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: money as decimal strings."""
        return {
            "currency": "USD",
            "period": "month",
            "baseline_monthly": str(self.baseline),
            "new_monthly": str(self.new),
            "delta_monthly": str(self.delta),
            "new_monthly_range": (
                None if self.new_range is None else [str(v) for v in self.new_range]
            ),
            "priced_count": len(self.priced),
            "free_count": len(self.free),
            "not_priced_count": len(self.not_priced),
            "free": list(self.free),
            "not_priced": [{"name": n, "reason": r} for n, r in self.reasons],
            "usage_billed": list(self.usage_billed),
            "usage_included": list(self.usage_included),
        }


def plan_costs(plan: Plan | Iterable[ResourceChange]) -> CostSummary:
    """Total a priced plan: baseline, new, delta, and which resources are free or not priced."""
    changes = plan.changes if isinstance(plan, Plan) else tuple(plan)
    baseline = new = low = high = Decimal(0)
    has_range = False
    priced: list[str] = []
    free: list[str] = []
    not_priced: list[str] = []
    usage_billed: list[str] = []
    usage_included: list[str] = []
    reasons: list[tuple[str, str]] = []
    for change in changes:
        current = _current(change)
        if current is None:
            continue
        if not is_priced(change):
            not_priced.append(change.name)
            notes = [
                n
                for c in (change.cost_before, change.cost_after)
                if c is not None and not c.priced
                for n in c.notes
            ]
            reasons.append(
                (change.name, notes[0].removeprefix("not priced: ") if notes else "unknown")
            )
            continue
        priced.append(change.name)
        if _costs_nothing(current):
            free.append(change.name)
        if current.usage_rates:
            (usage_included if usage_included_in(current) else usage_billed).append(change.name)
        baseline += _monthly(change.cost_before)
        after = _monthly(change.cost_after)
        new += after
        after_range = None if change.cost_after is None else change.cost_after.monthly_range
        if after_range is not None:
            has_range = True
            low, high = low + after_range[0], high + after_range[1]
        else:
            low, high = low + after, high + after
    return CostSummary(
        baseline=baseline,
        new=new,
        new_range=(low, high) if has_range else None,
        priced=tuple(priced),
        free=tuple(free),
        not_priced=tuple(not_priced),
        usage_billed=tuple(usage_billed),
        usage_included=tuple(usage_included),
        reasons=tuple(reasons),
    )
