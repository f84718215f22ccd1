"""The API's views of stacks: the declared stacks, one stack's components and recorded outputs
(secrets masked), and its preview as a priced Plan.

The plan is the terminal preview's, made the same way: the engine :func:`flowyml.provision.select
.engine_for` picks (always offline for cloud stacks: the dashboard never calls the Pulumi CLI),
priced by :func:`flowyml.cost.price_plan` with the project's usage file, totalled by
:func:`flowyml.cost.plan_costs`, and rendered by :func:`flowyml.cost.render_text`. The newest plan
of each stack is kept in memory and returned until a refresh is asked for.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from flowyml.core.errors import FlowymlError

_plans: dict[str, dict[str, Any]] = {}
_plans_lock = threading.Lock()


def _provisioned(stack: Any) -> bool:
    from flowyml.provision.state import OUTPUTS_FILE, stack_dir

    if not stack.needs_provisioning:
        return True
    return bool((stack_dir(stack.name) / OUTPUTS_FILE).is_file())


def stack_rows() -> dict[str, Any]:
    """``GET /api/stacks``: every declared stack (a broken one with its error)."""
    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    active = registry.active_name()
    rows = []
    for entry in registry.entries():
        stack = entry.stack
        rows.append(
            {
                "name": entry.name,
                "type": entry.stack_type,
                "active": entry.name == active,
                "provisioned": None if stack is None else _provisioned(stack),
                "source": entry.source,
                "error": None if entry.error is None else str(entry.error),
                "components": [] if stack is None else _components(stack),
            }
        )
    return {"stacks": rows, "active": active}


def _components(stack: Any) -> list[dict[str, Any]]:
    found = []
    for field in (
        "orchestrator",
        "executor",
        "artifact_store",
        "metadata_store",
        "container_registry",
    ):
        component = getattr(stack, field, None)
        if component is not None:
            found.append({"role": field, "kind": getattr(component, "kind", None)})
    return found


def stack_view(name: str) -> dict[str, Any]:
    """``GET /api/stacks/{name}``: the declaration (as ``stack describe`` shows it), whether it is
    provisioned and its recorded outputs, masked."""
    from flowyml.provision.state import load_outputs
    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    stack = registry.get_stack(name)
    outputs: dict[str, Any] | None = None
    outputs_error = None
    try:
        recorded = load_outputs(name)
        outputs = None if recorded is None else recorded.masked()
    except FlowymlError as exc:
        outputs_error = str(exc)
    plan = _plans.get(name)
    return {
        "name": name,
        "type": stack.stack_type,
        "active": registry.active_name() == name,
        "provisioned": _provisioned(stack),
        "components": _components(stack),
        "declaration": stack.describe(),
        "outputs": outputs,
        "outputs_error": outputs_error,
        "latest_plan_at": None if plan is None else plan["planned_at"],
    }


def stack_plan(name: str, *, refresh: bool = False) -> dict[str, Any]:
    """``GET /api/stacks/{name}/plan``: the priced preview (cached until ``refresh``)."""
    with _plans_lock:
        if not refresh and name in _plans:
            return _plans[name]
    from flowyml.core.paths import project_dir
    from flowyml.cost import plan_costs, price_plan, project_usage, render_text
    from flowyml.provision.select import engine_for
    from flowyml.stacks.registry import StackRegistry

    stack = StackRegistry().get_stack(name)
    choice = engine_for(stack, "preview", offline=True)
    plan = choice.engine.preview(stack)
    usage = project_usage(None, project_dir())
    priced = price_plan(plan, region=getattr(stack, "region", None), usage=usage)
    result = {
        "stack": name,
        "planned_at": datetime.now(timezone.utc).isoformat(),
        "plan": priced.to_dict(),
        "costs": plan_costs(priced).to_dict(),
        "text": render_text(priced),
    }
    with _plans_lock:
        _plans[name] = result
    return result


def forget_plans() -> None:
    """Drop the cached plans (tests; a new server)."""
    with _plans_lock:
        _plans.clear()


__all__ = ["forget_plans", "stack_plan", "stack_rows", "stack_view"]
