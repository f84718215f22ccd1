"""Money: the one place that knows the length of a month and how amounts are written.

Invariants:
- Amounts are :class:`~decimal.Decimal` (never float); ``None`` means unknown and is written
  ``"?"``, never ``"$0.00"``.
- ``HOURS_PER_MONTH`` (730, the cloud providers' convention) is defined here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)
"""Hours in a billing month, as AWS, Google Cloud and Infracost count them (365 * 24 / 12)."""

UNKNOWN = "?"
"""How an unknown amount is written."""

_CENT = Decimal("0.01")


def monthly_from_hourly(hourly: Decimal) -> Decimal:
    """Monthly cost of something billed ``hourly`` USD for every hour of the month."""
    return hourly * HOURS_PER_MONTH


def exact_zero(amount: Decimal) -> Decimal:
    """``amount``, with any zero written as plain ``0`` (never ``0E-8`` in JSON or text)."""
    return Decimal(0) if amount == 0 else amount


def round_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, halves away from zero (how invoices round)."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_usd(amount: Decimal | None) -> str:
    """Write an amount as ``$1,234.56``; negative as ``-$3.00``; unknown as ``?``.

    A positive amount that rounds to zero cents is written ``<$0.01`` so that a tiny cost is
    never shown as free.
    """
    if amount is None:
        return UNKNOWN
    cents = round_cents(amount)
    if cents == 0 and amount > 0:
        return "<$0.01"
    if cents == 0 and amount < 0:
        return "-<$0.01"
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def format_delta(amount: Decimal | None) -> str:
    """Write a change in cost with its sign: ``+$3.00``, ``-$1.50``, ``$0.00``; unknown ``?``."""
    if amount is None:
        return UNKNOWN
    text = format_usd(amount)
    if amount > 0:
        return "+" + text
    return text


def format_monthly(amount: Decimal | None) -> str:
    """Write a monthly amount as ``$7.67/mo``; unknown as ``?``."""
    return UNKNOWN if amount is None else f"{format_usd(amount)}/mo"


def format_rate(rate: Decimal | None, unit: str) -> str:
    """Write a unit price with the precision it needs: ``$0.023/GB-month``, ``$0.0012/GB-month``.

    Unit prices are often fractions of a cent, so they keep every significant digit (at least
    two decimals) instead of being rounded to cents.
    """
    if rate is None:
        return f"{UNKNOWN}/{unit}"
    normal = rate.normalize()
    exponent = normal.as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"${rate:,.{places}f}/{unit}"


def format_range(low: Decimal, high: Decimal) -> str:
    """Write a monthly range: ``$10.00-$40.00/mo``."""
    return f"{format_usd(low)}-{format_usd(high)}/mo"


def sum_known(amounts: Iterable[Decimal | None]) -> tuple[Decimal, int]:
    """Add the known amounts; return ``(total, how many were unknown)``.

    Unknown amounts are never counted as zero silently: the caller gets their number and must
    say that the total excludes them.
    """
    total = Decimal(0)
    unknown = 0
    for amount in amounts:
        if amount is None:
            unknown += 1
        else:
            total += amount
    return total, unknown
