"""Cost-aware previews: a dated price catalog, resource estimates, plan costs, budget gates, run costs.

Importing this package reads no price file and imports neither pulumi, a cloud SDK nor rich.
"""

from __future__ import annotations

from flowyml.cost.budget import check_budget
from flowyml.cost.errors import (
    BudgetExceededError,
    CatalogError,
    CostError,
    UnpricedBudgetError,
    UsageFileError,
)
from flowyml.cost.estimator import apply_usage, estimate_resource, is_free_type
from flowyml.cost.money import HOURS_PER_MONTH, format_delta, format_rate, format_usd
from flowyml.cost.planning import CostSummary, change_delta, plan_costs, price_change, price_plan
from flowyml.cost.prices import Catalog, PriceEntry, ProviderCatalog, default_catalog
from flowyml.cost.render_json import render_json
from flowyml.cost.render_markdown import render_markdown
from flowyml.cost.render_text import render_text
from flowyml.cost.rendering import RenderOptions
from flowyml.cost.runcost import hourly_price, run_step_costs, step_cost
from flowyml.cost.usage import USAGE_FILE_NAME, Usage, load_usage, project_usage

__all__ = [
    "HOURS_PER_MONTH",
    "USAGE_FILE_NAME",
    "BudgetExceededError",
    "Catalog",
    "CatalogError",
    "CostError",
    "CostSummary",
    "PriceEntry",
    "ProviderCatalog",
    "RenderOptions",
    "UnpricedBudgetError",
    "Usage",
    "UsageFileError",
    "apply_usage",
    "change_delta",
    "check_budget",
    "default_catalog",
    "estimate_resource",
    "format_delta",
    "format_rate",
    "format_usd",
    "hourly_price",
    "is_free_type",
    "load_usage",
    "plan_costs",
    "price_change",
    "price_plan",
    "project_usage",
    "render_json",
    "render_markdown",
    "render_text",
    "run_step_costs",
    "step_cost",
]
