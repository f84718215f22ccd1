"""JSON for the dashboard's API: datetimes as ISO text, decimals as strings (never floats)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)  # a recorded parameter of an odd type: shown as text, never a 500


def dumps(data: Mapping[str, Any] | Sequence[Any]) -> str:
    """Compact JSON text of ``data``."""
    return json.dumps(data, default=_default, separators=(",", ":"))


__all__ = ["dumps"]
