"""A small accumulator that rules use to build one :class:`CostEstimate` (private helper).

Invariant: if any part is missing, the estimate is ``priced=False`` with ``monthly=None`` and a
note per missing part; a partial sum is never presented as the cost.
"""

from __future__ import annotations

from decimal import Decimal

from flowyml.core.plan import CostEstimate
from flowyml.cost.money import exact_zero, monthly_from_hourly


class Bill:
    """Monthly parts, usage rates and notes of one resource."""

    def __init__(self) -> None:
        self.monthly = Decimal(0)
        self.usage_rates: dict[str, Decimal] = {}
        self.notes: list[str] = []
        self.missing: list[str] = []

    def hourly(self, what: str, price: Decimal | None, quantity: Decimal | int = 1) -> None:
        """Add ``quantity`` x ``price`` per hour, for every hour of the month."""
        if price is None:
            self.missing.append(what)
        else:
            self.monthly += monthly_from_hourly(price) * quantity

    def per_month(self, what: str, price: Decimal | None, quantity: Decimal | int = 1) -> None:
        """Add ``quantity`` x ``price`` per month (e.g. GB of provisioned disk)."""
        if price is None:
            self.missing.append(what)
        else:
            self.monthly += price * quantity

    def rate(self, unit: str, what: str, price: Decimal | None) -> None:
        """Record a usage-billed price (e.g. per GB-month stored)."""
        if price is None:
            self.missing.append(what)
        else:
            self.usage_rates[unit] = self.usage_rates.get(unit, Decimal(0)) + price

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def estimate(self, scale: tuple[int, int, int] | None = None) -> CostEstimate:
        """The estimate; ``scale=(count, low, high)`` multiplies by a node count with a range."""
        if self.missing:
            return not_priced(*(f"not priced: {m}" for m in self.missing), *self.notes)
        if scale is None:
            return CostEstimate(
                exact_zero(self.monthly),
                usage_rates=dict(self.usage_rates),
                notes=tuple(self.notes),
            )
        count, low, high = scale
        monthly_range = (
            None
            if low == high
            else (exact_zero(self.monthly * low), exact_zero(self.monthly * high))
        )
        return CostEstimate(
            exact_zero(self.monthly * count),
            usage_rates=dict(self.usage_rates),
            monthly_range=monthly_range,
            notes=tuple(self.notes),
        )


def not_priced(*notes: str) -> CostEstimate:
    """An estimate saying the cost is unknown, with why."""
    return CostEstimate(None, priced=False, notes=tuple(notes))


def free(*notes: str) -> CostEstimate:
    """An estimate of exactly zero (the resource costs nothing in itself)."""
    return CostEstimate(Decimal(0), notes=tuple(notes))
