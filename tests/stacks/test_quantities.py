"""Quantity parsing: a table of known values, and properties over generated ones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowyml.stacks.errors import QuantityError, StackError
from flowyml.stacks.quantities import (
    BINARY_SUFFIXES,
    DECIMAL_SUFFIXES,
    format_bytes,
    parse_bytes,
    parse_cpu,
)


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("8", Decimal(8)),
        ("500m", Decimal("0.5")),
        ("0.5", Decimal("0.5")),
        ("1.5", Decimal("1.5")),
        ("250m", Decimal("0.25")),
        ("96", Decimal(96)),
    ],
)
def test_cpu_table(text: str, cores: Decimal) -> None:
    assert parse_cpu(text) == cores


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("32Gi", 32 * 2**30),
        ("100Gi", 100 * 2**30),
        ("512Mi", 512 * 2**20),
        ("1G", 10**9),
        ("1.5Gi", 1610612736),
        ("128e6", 128 * 10**6),
        ("1k", 1000),
        ("1Ki", 1024),
        ("8", 8),
    ],
)
def test_bytes_table(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("bad", ["", "abc", "-1", "0", "8 cores", "1.2.3", "m", "500mm"])
def test_bad_cpu_is_one_line_quantity_error(bad: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_cpu(bad)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, StackError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("bad", "suggestion"),
    [("32GB", "'32G'"), ("8GiB", "'8Gi'"), ("512MB", "'512M'"), ("1K", "'1k'")],
)
def test_common_mistakes_get_a_suggestion(bad: str, suggestion: str) -> None:
    with pytest.raises(QuantityError, match=f"did you mean {suggestion}"):
        parse_bytes(bad)


@pytest.mark.parametrize("bad", ["0", "0Gi", "-5Gi", "Gi", "1.5.Gi", "1e99", "1 Gi"])
def test_bad_bytes(bad: str) -> None:
    with pytest.raises(QuantityError):
        parse_bytes(bad)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(BINARY_SUFFIXES)))
def test_binary_quantities_multiply_exactly(n: int, suffix: str) -> None:
    assert parse_bytes(f"{n}{suffix}") == n * BINARY_SUFFIXES[suffix]
    assert parse_bytes(format_bytes(n * BINARY_SUFFIXES[suffix])) == n * BINARY_SUFFIXES[suffix]


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(DECIMAL_SUFFIXES)))
def test_decimal_quantities_multiply_exactly(n: int, suffix: str) -> None:
    assert parse_bytes(f"{n}{suffix}") == n * DECIMAL_SUFFIXES[suffix]


@given(st.integers(min_value=1, max_value=10**7))
def test_millicores_are_thousandths(milli: int) -> None:
    assert parse_cpu(f"{milli}m") == Decimal(milli) / 1000
    assert parse_cpu(f"{milli}m") * 1000 == parse_cpu(str(milli))


@given(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**4), places=3),
    st.sampled_from(sorted(BINARY_SUFFIXES)[:4]),
)
def test_fractional_bytes_round_up_and_never_below(value: Decimal, suffix: str) -> None:
    exact = value * BINARY_SUFFIXES[suffix]
    parsed = parse_bytes(f"{value}{suffix}")
    assert exact <= parsed < exact + 1


@given(st.text(max_size=12))
def test_parser_never_raises_anything_but_quantity_error(text: str) -> None:
    for parse in (parse_cpu, parse_bytes):
        try:
            result = parse(text)
        except QuantityError as exc:
            assert "\n" not in str(exc)
        else:
            assert result > 0
