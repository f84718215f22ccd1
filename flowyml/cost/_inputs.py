"""Reading Pulumi resource inputs as the engine shows them (private helpers).

Inputs may hold unknowns (values known only after apply, shown as absent, ``None`` or the
Pulumi unknown sentinel) and masked secrets; readers fall back to the documented default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
_AWS_AZ = re.compile(r"^([a-z]{2}-[a-z]+-\d)[a-z]$")
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")


def get(inputs: Mapping[str, Any] | None, path: str, default: Any = None) -> Any:
    """``inputs[a][b]`` for ``path="a.b"``; ``default`` when missing or unknown.

    A one-element list on the way is stepped into (Pulumi sometimes shows a nested block as a
    list of one object).
    """
    value: Any = inputs
    for part in path.split("."):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    if value is None or value == UNKNOWN_SENTINEL:
        return default
    return value


def as_decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A number from an input (int, float, numeric string); ``default`` when not a number."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return default
    return number if number.is_finite() else default


def number(value: Any, default: Decimal) -> Decimal:
    """A number from an input; ``default`` when missing or not a number (0 stays 0)."""
    found = as_decimal(value)
    return default if found is None else found


def as_int(value: Any, default: int) -> int:
    """An integer from an input; ``default`` when not a number."""
    number = as_decimal(value)
    return default if number is None else int(number)


def as_bool(value: Any) -> bool:
    """A boolean from an input (``True``, ``"true"``)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def normalise_region(value: Any) -> str | None:
    """A catalog region from a region, zone or location input.

    ``us-central1-a`` -> ``us-central1``; ``US-CENTRAL1`` -> ``us-central1``; multi-regions
    ``US``/``EU``/``ASIA`` stay upper-case; ``us-east-1a`` -> ``us-east-1``.
    """
    if not isinstance(value, str) or not value or value == UNKNOWN_SENTINEL:
        return None
    text = value.strip()
    if text.upper() in ("US", "EU", "ASIA"):
        return text.upper()
    text = text.lower()
    for pattern in (_ZONE, _AWS_AZ):
        match = pattern.match(text)
        if match:
            return match.group(1)
    return text


def is_gcp_region(location: str) -> bool:
    """True for a GCP region name (``us-central1``) rather than a zone (``us-central1-a``)."""
    return bool(_GCP_REGION.match(location.strip().lower()))
