"""Decoding Pulumi's wire encoding of property values (shared by mock evaluation and events).

Pulumi marks special values inside plain JSON maps with a signature key: secrets are
``{"4dabf1...": "1b4706...", "value": v}``, unknowns are the string ``"04da6b54-..."``, resource
references, assets and archives carry their own signatures. These pure functions turn such a value
into plain data and report which paths held secrets or unknowns, so every caller masks the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowyml.core.plan import SECRET_MASK

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Keys the engine adds to inputs for its own bookkeeping; they are not user inputs.
ENGINE_KEYS = frozenset({"__defaults", "__meta", "__inputs"})


@dataclass
class Decoded:
    """A decoded value and the dotted paths that were secret or unknown."""

    value: Any
    secret_paths: list[str] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)
    secret_texts: list[str] = field(default_factory=list)
    """The clear text of string values inside secrets (to redact them from free-form messages)."""


def _is_engine_key(path: str, key: str) -> bool:
    """``__defaults`` may appear at any depth; other ``__`` keys (``__provider``...) at the top."""
    return key in ENGINE_KEYS or (path == "" and key.startswith("__"))


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _decode(value: Any, path: str, mask: bool, out: Decoded, in_secret: bool) -> Any:
    if isinstance(value, str) and value == UNKNOWN:
        out.unknown_paths.append(path)
        return None
    if in_secret and isinstance(value, str) and value:
        out.secret_texts.append(value)
    if isinstance(value, float) and value.is_integer():
        # protobuf Structs carry every number as a double; 16.0 is the integer 16 to a user.
        value = int(value)
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            out.secret_paths.append(path)
            inner = _decode(value.get("value"), path, mask, out, True)
            return SECRET_MASK if mask else inner
        if sig == OUTPUT_VALUE_SIG:
            if value.get("secret"):
                out.secret_paths.append(path)
            if "value" not in value:
                out.unknown_paths.append(path)
                return None
            inner = _decode(value["value"], path, mask, out, in_secret or bool(value.get("secret")))
            return SECRET_MASK if mask and value.get("secret") else inner
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            return {k: v for k, v in value.items() if k != SIG_KEY}
        return {
            k: _decode(v, _join(path, k), mask, out, in_secret)
            for k, v in value.items()
            if not _is_engine_key(path, k)
        }
    if isinstance(value, list):
        return [_decode(v, _join(path, i), mask, out, in_secret) for i, v in enumerate(value)]
    return value


def decode(value: Any, *, mask_secrets: bool) -> Decoded:
    """Decode one wire value (usually a whole input or output map).

    Args:
        value: The value in Pulumi's JSON wire form.
        mask_secrets: Replace every secret with ``"[secret]"`` (for anything shown or stored).

    Returns:
        The plain value, with the dotted paths of its secrets and unknowns.
    """
    out = Decoded(value=None)
    out.value = _decode(value, "", mask_secrets, out, False)
    return out


def top_level(paths: list[str]) -> tuple[str, ...]:
    """The distinct top-level keys of dotted/indexed paths, in first-seen order."""
    keys: dict[str, None] = {}
    for path in paths:
        head = path.split(".", 1)[0].split("[", 1)[0]
        if head:
            keys[head] = None
    return tuple(keys)
