"""Money formatting and summing: table-driven, plus properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowyml.cost.money import (
    HOURS_PER_MONTH,
    format_delta,
    format_monthly,
    format_range,
    format_rate,
    format_usd,
    monthly_from_hourly,
    sum_known,
)

D = Decimal


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (None, "?"),
        (D(0), "$0.00"),
        (D("7.665"), "$7.67"),
        (D("7.664"), "$7.66"),
        (D("1234.5"), "$1,234.50"),
        (D("1000000"), "$1,000,000.00"),
        (D("-3"), "-$3.00"),
        (D("0.001"), "<$0.01"),
        (D("-0.001"), "-<$0.01"),
        (D("0.005"), "$0.01"),
    ],
)
def test_format_usd(amount: Decimal | None, text: str) -> None:
    assert format_usd(amount) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(None, "?"), (D(0), "$0.00"), (D("17.885"), "+$17.89"), (D("-9.365"), "-$9.37")],
)
def test_format_delta(amount: Decimal | None, text: str) -> None:
    assert format_delta(amount) == text


@pytest.mark.parametrize(
    ("rate", "unit", "text"),
    [
        (D("0.023"), "GB-month", "$0.023/GB-month"),
        (D("0.0012"), "GB-month", "$0.0012/GB-month"),
        (D("0.10"), "GB-month", "$0.10/GB-month"),
        (D("2"), "hour", "$2.00/hour"),
        (None, "GB-month", "?/GB-month"),
    ],
)
def test_format_rate(rate: Decimal | None, unit: str, text: str) -> None:
    assert format_rate(rate, unit) == text


def test_monthly_and_range() -> None:
    assert HOURS_PER_MONTH == 730
    assert monthly_from_hourly(D("0.10")) == D("73.00")
    assert format_monthly(None) == "?"
    assert format_monthly(D("73")) == "$73.00/mo"
    assert format_range(D(10), D(40)) == "$10.00-$40.00/mo"


def test_unknown_never_renders_as_zero() -> None:
    for fmt in (format_usd, format_delta, format_monthly):
        assert "$0" not in fmt(None)


money = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)


@given(st.lists(st.one_of(st.none(), money)))
def test_sum_known_counts_unknowns_and_adds_the_rest(values: list[Decimal | None]) -> None:
    total, unknown = sum_known(values)
    assert unknown == sum(v is None for v in values)
    assert total == sum((v for v in values if v is not None), D(0))


@given(money)
def test_format_usd_round_trips_to_the_cent(amount: Decimal) -> None:
    text = format_usd(amount)
    if "<" in text:
        assert abs(amount) < D("0.005")
        return
    parsed = D(text.replace("$", "").replace(",", ""))
    assert abs(parsed - amount) <= D("0.005")
    assert format_delta(amount).lstrip("+") == text
