"""Small helpers shared by the CLI commands: JSON output and stack lookup."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import click


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def echo_json(data: Mapping[str, Any] | Sequence[Any]) -> None:
    """Print ``data`` as indented JSON on stdout (datetimes, decimals and enums as strings)."""
    click.echo(json.dumps(data, indent=2, default=_default, sort_keys=False))


def parse_key_values(pairs: Sequence[str], option: str) -> dict[str, str]:
    """Parse repeated ``k=v`` options; a malformed one is a usage error naming ``option``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        out[key.strip()] = value
    return out
