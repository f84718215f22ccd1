"""Drift: what a refresh found changed outside flowyml, property by property.

A refresh plan (any engine) holds, per drifted resource, ``before`` (what was recorded) and
``after`` (what exists now; ``None`` when the resource is gone). :func:`property_drifts` walks both
to the leaves, so a console edit of ``settings.tier`` shows as that one path, not as "settings".

Invariant: values under a sensitive key are never returned in clear (``[secret]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowyml.core.plan import SECRET_MASK, Plan, ResourceChange

GONE = "(deleted outside flowyml)"


@dataclass(frozen=True)
class PropertyDrift:
    """One property whose recorded and real values differ.

    Attributes:
        path: Dotted path, list items as ``[i]`` (``settings.tier``, ``rules[0].verbs``).
        before: The recorded value (``None``: it was not set).
        after: The real value (``None``: it is not set any more).
    """

    path: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


def _walk(path: str, before: Any, after: Any, out: list[PropertyDrift]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted({*before, *after}, key=str):
            _walk(f"{path}.{key}" if path else str(key), before.get(key), after.get(key), out)
    elif (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
        and before != after
    ):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _walk(f"{path}[{i}]", b, a, out)
    elif before != after:
        out.append(PropertyDrift(path, before, after))


def property_drifts(change: ResourceChange) -> tuple[PropertyDrift, ...]:
    """Every leaf property that differs between the recorded and the real resource.

    A resource gone from the cloud is one drift at path ``""`` (``after`` = :data:`GONE`).
    """
    if change.after is None and change.before is not None:
        return (PropertyDrift("", "exists", GONE),)
    out: list[PropertyDrift] = []
    before, after = change.before or {}, change.after or {}
    _walk("", before, after, out)
    seen = {_head(d.path) for d in out}
    # The engine says these differ though their (masked) inputs compare equal: a rotated
    # secret, or a change in what the provider reports; show the key, never the value.
    for key in change.diff_keys:
        if key not in seen:
            out.append(PropertyDrift(key, before.get(key), after.get(key)))
    secret = set(change.sensitive)
    return tuple(
        PropertyDrift(d.path, SECRET_MASK, SECRET_MASK) if _head(d.path) in secret else d
        for d in out
    )


def _head(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def drifted(plan: Plan) -> tuple[ResourceChange, ...]:
    """The changes of a refresh plan that found drift (everything but no-ops and reads)."""
    return tuple(c for c in plan.changes if not c.is_noop and c.verb != "read")
