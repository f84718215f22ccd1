"""Render a priced plan as JSON: ``Plan.to_dict()`` plus a ``cost`` block with the totals and
the date of each price catalog used (``cost.prices_as_of``)."""

from __future__ import annotations

import json

from flowyml.core.plan import Plan
from flowyml.cost.planning import plan_costs
from flowyml.cost.rendering import catalog_dates


def render_json(plan: Plan) -> str:
    """The plan as Terraform-shaped JSON with a ``cost`` block (money as decimal strings)."""
    doc = plan.to_dict()
    doc["cost"] = plan_costs(plan).to_dict()
    doc["cost"]["prices_as_of"] = [d.to_dict() for d in catalog_dates(plan)]
    return json.dumps(doc, indent=2, sort_keys=False, default=str)
