"""Text and JSON views of guardrail reports and of drift, for the stack lifecycle commands.

Pure functions: data in, strings or JSON-ready dicts out (the commands print them). Money is
formatted by :mod:`flowyml.cost.money` only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowyml.core.plan import Plan
    from flowyml.provision.guardrails import Report


def render_report(report: Report) -> str:
    """A guardrail report as text: one block per finding, most severe first."""
    from flowyml.provision.guardrails import Severity

    plural = {"error": "errors", "warning": "warnings", "info": "info"}
    counts = ", ".join(
        f"{n} {s.value if n == 1 else plural[s.value]}"
        for s in Severity
        for n in (report.count(s),)
    )
    lines = [f"Guardrails for stack {report.stack} (engine: {report.engine}): {counts}"]
    if report.placeholders:
        lines.append(
            "  (inputs known only after apply were filled from the program with placeholder ids)"
        )
    width = max((len(f.rule) for f in report.findings), default=0)
    for f in report.findings:
        lines.append(f"  {f.severity.value.upper():<7} {f.rule:<{width}}  {f.name} ({f.type})")
        lines.append(f"          {f.message}")
        lines.append(f"          address: {f.address}")
        lines.append(f"          To fix: {f.fix}")
    if not report.findings:
        lines.append("  No findings.")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)


def drift_rows(plan: Plan) -> list[dict[str, Any]]:
    """One JSON-ready row per drifted resource: its properties and the monthly cost effect.

    ``plan`` is a priced refresh plan (``before`` = recorded, ``after`` = what exists).
    """
    from flowyml.cost import change_delta
    from flowyml.provision.drift import drifted, property_drifts

    def monthly(cost: Any) -> str | None:
        if cost is None:
            return "0"
        return None if not cost.priced or cost.monthly is None else str(cost.monthly)

    rows = []
    for change in drifted(plan):
        delta = change_delta(change)
        rows.append(
            {
                "address": change.address,
                "type": change.type,
                "name": change.name,
                "actions": [a.value for a in change.actions],
                "properties": [d.to_dict() for d in property_drifts(change)],
                "monthly_before": monthly(change.cost_before),
                "monthly_after": monthly(change.cost_after),
                "monthly_delta": None if delta is None else str(delta),
            }
        )
    return rows


def render_drift(plan: Plan) -> str:
    """A priced refresh plan as text: each drifted property and what it does to the bill."""
    from flowyml.cost import change_delta, format_delta, format_usd, plan_costs
    from flowyml.cost.rendering import cost_text
    from flowyml.provision.drift import GONE, drifted, property_drifts

    changes = drifted(plan)
    if not changes:
        return f"No drift in stack {plan.stack}: what exists matches the recorded state."
    lines = [f"Drift in stack {plan.stack} (engine: {plan.engine}):"]
    for change in changes:
        delta = change_delta(change)
        effect = "not priced" if delta is None else format_delta(delta)
        lines.append(
            f"  {change.symbol:>3} {change.name}  {change.type}  "
            f"{cost_text(change.cost_before)} -> {cost_text(change.cost_after)}/mo ({effect})"
        )
        for drift in property_drifts(change):
            if drift.after == GONE:
                lines.append(f"        {GONE}")
            else:
                lines.append(
                    f"        {drift.path}: {_value(drift.before)} -> {_value(drift.after)}"
                )
    summary = plan_costs(changes)
    lines.append(
        f"Monthly cost effect of the drift: {format_usd(summary.baseline)} -> "
        f"{format_usd(summary.new)}/mo ({format_delta(summary.delta)})"
    )
    if summary.not_priced:
        lines.append(f"Not priced (excluded): {', '.join(summary.not_priced)}")
    return "\n".join(lines)
