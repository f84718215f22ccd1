"""What every plan renderer shares: the options and the cost wording of one change.

Invariant: all three renderers build their rows from :func:`change_rows` and their totals from
:func:`~flowyml.cost.planning.plan_costs`, so terminal, markdown and JSON show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flowyml.core.plan import CostEstimate, Plan, ResourceChange
from flowyml.cost.money import format_delta, format_range, format_rate, format_usd
from flowyml.cost.planning import change_delta

NOT_PRICED = "not priced"


@dataclass(frozen=True)
class RenderOptions:
    """How to render a plan.

    Attributes:
        show_unchanged: Include resources the plan does not change.
        color: Use ANSI colours (terminal renderer only).
        width: Line width for the terminal renderer.
        show_notes: Show each estimate's notes under its change.
    """

    show_unchanged: bool = False
    color: bool = True
    width: int = 120
    show_notes: bool = False


@dataclass(frozen=True)
class ChangeRow:
    """One change as text cells (``usage`` is the current side's: after, else before)."""

    change: ResourceChange
    symbol: str
    before: str
    after: str
    delta: str
    usage: str
    before_usage: str
    after_usage: str
    after_range: str
    notes: tuple[str, ...]


def cost_text(cost: CostEstimate | None) -> str:
    """A side's monthly cost: ``$7.67``, ``$0.00`` (no resource), ``not priced``."""
    if cost is None:
        return format_usd(Decimal(0))
    if not cost.priced or cost.monthly is None:
        return NOT_PRICED
    return format_usd(cost.monthly)


def range_text(cost: CostEstimate | None) -> str:
    """An autoscaling range, ``$72.08-$216.24/mo``; empty when fixed-size or unknown."""
    if cost is None or not cost.priced or cost.monthly_range is None:
        return ""
    return format_range(*cost.monthly_range)


def usage_text(cost: CostEstimate | None) -> str:
    """Usage-billed parts: ``+ $0.020/GB-month``; empty when none."""
    if cost is None or not cost.usage_rates:
        return ""
    return " ".join(f"+ {format_rate(rate, unit)}" for unit, rate in cost.usage_rates.items())


def change_rows(plan: Plan, options: RenderOptions) -> list[ChangeRow]:
    """The changes to show, in plan order, with their cost cells."""
    rows = []
    for change in plan.changes:
        if change.is_noop and not options.show_unchanged:
            continue
        current = change.cost_after if change.cost_after is not None else change.cost_before
        notes = tuple(
            note
            for cost in (change.cost_before, change.cost_after)
            if cost is not None
            for note in cost.notes
        )
        rows.append(
            ChangeRow(
                change=change,
                symbol=change.symbol,
                before=cost_text(change.cost_before),
                after=cost_text(change.cost_after),
                delta=format_delta(change_delta(change)),
                usage=usage_text(current),
                before_usage=usage_text(change.cost_before),
                after_usage=usage_text(change.cost_after),
                after_range=range_text(change.cost_after),
                notes=tuple(dict.fromkeys(notes)),
            )
        )
    return rows
