"""What every plan renderer shares: the options and the cost wording of one change.

Invariant: all three renderers build their rows from :func:`change_rows` and their totals from
:func:`~flowyml.cost.planning.plan_costs`, so terminal, markdown and JSON show the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flowyml.core.plan import CostEstimate, Plan, ResourceChange
from flowyml.cost.money import format_delta, format_range, format_rate, format_usd
from flowyml.cost.planning import change_delta

NOT_PRICED = "not priced"
_CATALOG_OF_PACKAGE = {"gcp": "gcp", "aws": "aws", "kubernetes": "k8s"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class CatalogDate:
    """How old the prices behind a plan are, per provider catalog.

    Attributes:
        provider: ``gcp``, ``aws`` or ``k8s``.
        as_of: The catalog's as-of date (when its figures were transcribed).
        checked: Entries re-checked since (each entry's ``verified`` says against what).
        entries: Entries in the catalog.
        last_check: The latest date an entry was re-checked, if any was.
    """

    provider: str
    as_of: str
    checked: int
    entries: int
    last_check: str | None

    def text(self) -> str:
        """``2024-06-01 (gcp catalog; 36 of 306 entries re-checked, latest 2026-11-26)``."""
        tail = f", latest {self.last_check}" if self.last_check else ""
        return (
            f"{self.as_of} ({self.provider} catalog; "
            f"{self.checked} of {self.entries} entries re-checked{tail})"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "provider": self.provider,
            "as_of": self.as_of,
            "checked": self.checked,
            "entries": self.entries,
            "last_check": self.last_check,
        }


def catalog_dates(plan: Plan) -> list[CatalogDate]:
    """The catalogs the plan's resources are priced from, with their dates (display order)."""
    from flowyml.cost.prices import PROVIDERS, default_catalog

    used = {_CATALOG_OF_PACKAGE.get(c.type.split(":", 1)[0]) for c in plan.changes}
    dates = []
    for name in PROVIDERS:
        if name not in used:
            continue
        catalog = default_catalog().provider(name)
        checks = [e.verified for e in catalog.entries if e.verified]
        found = [d for text in checks for d in _DATE.findall(text)]
        dates.append(
            CatalogDate(
                name, catalog.as_of, len(checks), len(catalog.entries), max(found, default=None)
            )
        )
    return dates


def prices_as_of(plan: Plan) -> str:
    """``Prices as of ...`` for every catalog the plan uses ('' when it prices nothing)."""
    dates = catalog_dates(plan)
    if not dates:
        return ""
    return "Prices as of " + ", ".join(d.text() for d in dates) + "; public list prices in USD"


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
