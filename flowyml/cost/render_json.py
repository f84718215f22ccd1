"""Render a priced plan as JSON: ``Plan.to_dict()`` plus a ``cost`` block with the totals."""

from __future__ import annotations

import json

from flowyml.core.plan import Plan
from flowyml.cost.planning import plan_costs


def render_json(plan: Plan) -> str:
    """The plan as Terraform-shaped JSON with a ``cost`` block (money as decimal strings)."""
    doc = plan.to_dict()
    doc["cost"] = plan_costs(plan).to_dict()
    return json.dumps(doc, indent=2, sort_keys=False, default=str)
