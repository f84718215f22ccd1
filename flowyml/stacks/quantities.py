"""Kubernetes-style resource quantities: ``"8"``, ``"500m"``, ``"0.5"``, ``"32Gi"``, ``"1G"``.

CPU quantities are cores (``Decimal``; ``m`` means thousandths). Byte quantities take binary
suffixes (``Ki Mi Gi Ti Pi Ei``), decimal suffixes (``k M G T P E``) or an exponent (``"128e6"``)
and are rounded up to whole bytes, as Kubernetes does. Both must be positive.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from flowyml.stacks.errors import QuantityError

__all__ = [
    "BINARY_SUFFIXES",
    "DECIMAL_SUFFIXES",
    "GIB",
    "format_bytes",
    "parse_bytes",
    "parse_cpu",
]

BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
DECIMAL_SUFFIXES: dict[str, int] = {
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
GIB = 2**30

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_CPU_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<milli>m?)$")
_BYTES_RE = re.compile(
    rf"^(?P<num>{_NUMBER})(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)|[eE](?P<exp>\d+))?$"
)
# Common spellings that are not Kubernetes quantities, and what was probably meant.
_BYTES_FIXES: dict[str, str] = {
    "KB": "k",
    "K": "k",
    "KI": "Ki",
    "MB": "M",
    "MI": "Mi",
    "GB": "G",
    "GI": "Gi",
    "TB": "T",
    "TI": "Ti",
    "GIB": "Gi",
    "MIB": "Mi",
    "KIB": "Ki",
    "TIB": "Ti",
}


def _text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise QuantityError(f"{what} must be a string such as '8' or '32Gi', got {value!r}")
    return str(value).strip()


def parse_cpu(value: str | int | float | Decimal) -> Decimal:
    """Parse a CPU quantity into cores.

    Args:
        value: ``"8"``, ``"0.5"``, ``"500m"`` (or a number).

    Returns:
        The number of cores, e.g. ``Decimal("0.5")`` for ``"500m"``.

    Raises:
        QuantityError: The text is not a positive CPU quantity.
    """
    text = _text(value, "cpu")
    match = _CPU_RE.match(text)
    if not match:
        raise QuantityError(
            f"invalid cpu quantity {text!r}: use cores ('2', '0.5') or millicores ('500m')"
        )
    cores = Decimal(match["num"])
    if match["milli"]:
        cores = cores / 1000
    if cores <= 0:
        raise QuantityError(f"invalid cpu quantity {text!r}: must be greater than zero")
    return cores


def parse_bytes(value: str | int | float | Decimal, what: str = "memory") -> int:
    """Parse a byte quantity (memory, disk) into bytes, rounding up.

    Args:
        value: ``"512Mi"``, ``"32Gi"``, ``"1G"``, ``"1.5Gi"``, ``"128e6"`` (or a number of bytes).
        what: The field name, for the error message.

    Returns:
        The number of bytes.

    Raises:
        QuantityError: The text is not a positive byte quantity.
    """
    text = _text(value, what)
    match = _BYTES_RE.match(text)
    if not match:
        raise QuantityError(_bytes_message(text, what))
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(_bytes_message(text, what)) from exc
    if match["suffix"]:
        number *= (BINARY_SUFFIXES | DECIMAL_SUFFIXES)[match["suffix"]]
    elif match["exp"]:
        exponent = int(match["exp"])
        if exponent > 30:
            raise QuantityError(f"invalid {what} quantity {text!r}: exponent too large")
        number *= Decimal(10) ** exponent
    result = int(number.to_integral_value(rounding=ROUND_CEILING))
    if result <= 0:
        raise QuantityError(f"invalid {what} quantity {text!r}: must be greater than zero")
    return result


def _bytes_message(text: str, what: str) -> str:
    fix = re.match(rf"^({_NUMBER})\s*([A-Za-z]+)$", text)
    if fix and fix[2].upper() in _BYTES_FIXES and fix[2] not in BINARY_SUFFIXES:
        suggestion = f"{fix[1]}{_BYTES_FIXES[fix[2].upper()]}"
        return f"invalid {what} quantity {text!r}: did you mean {suggestion!r}? (binary: Ki, Mi, Gi, Ti; decimal: k, M, G, T)"
    return (
        f"invalid {what} quantity {text!r}: use a number with an optional suffix "
        "Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal), e.g. '32Gi'"
    )


def format_bytes(n: int) -> str:
    """The shortest exact binary quantity for ``n`` bytes (``34359738368`` -> ``"32Gi"``)."""
    for suffix, size in reversed(BINARY_SUFFIXES.items()):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)
