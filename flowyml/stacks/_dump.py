"""Plain-data views of models (for ``to_dict``) and one-line pydantic error messages."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from flowyml.stacks.secret_refs import dump_secret

__all__ = ["error_lines", "one_line", "plain"]


def plain(value: Any) -> Any:
    """JSON-able data: models become dicts of their fields, secrets their shown form
    (see :mod:`flowyml.stacks.secret_refs`), decimals strings."""
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, SecretStr):
        return dump_secret(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def error_lines(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field path, message)`` for each error of ``exc``, without pydantic's decorations."""
    out: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        message = str(err.get("msg", "invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        elif err.get("type") == "missing":
            message = "required field is missing"
        out.append((_loc(loc), message.replace("\n", " ")))
    return out


def one_line(exc: ValidationError, what: str) -> str:
    """``"<what>: <field>: <message> (and N more)"`` from a pydantic error."""
    lines = error_lines(exc)
    if not lines:  # pragma: no cover - pydantic always reports at least one error
        return f"{what}: invalid"
    field, message = lines[0]
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{what}: {field}: {message}{more}"
