"""Core types shared by every layer: the error tree root and the Plan model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowyml.core.errors import FlowymlError
    from flowyml.core.plan import Action, Plan, PlanSummary, ResourceChange

__all__ = ["Action", "FlowymlError", "Plan", "PlanSummary", "ResourceChange"]

# Imported on first use: `import flowyml` loads flowyml.core.launcher, and must stay cheap.
_LAZY = {
    "FlowymlError": "flowyml.core.errors",
    "Action": "flowyml.core.plan",
    "Plan": "flowyml.core.plan",
    "PlanSummary": "flowyml.core.plan",
    "ResourceChange": "flowyml.core.plan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowyml.core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
