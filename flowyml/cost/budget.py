"""The budget gate: fail a preview or an apply whose new monthly total is over a limit."""

from __future__ import annotations

from decimal import Decimal

from flowyml.core.plan import Plan
from flowyml.cost.errors import BudgetExceededError
from flowyml.cost.money import format_usd
from flowyml.cost.planning import CostSummary, plan_costs, price_plan


def check_budget(plan_or_summary: Plan | CostSummary, max_monthly: Decimal) -> None:
    """Raise when the plan's new monthly total is over ``max_monthly``.

    A plan that carries no cost estimates yet is priced first (with the packaged catalog and
    the provider default regions). Resources that are not priced are excluded from the total;
    the error says how many.

    Args:
        plan_or_summary: A (priced) plan or its :class:`CostSummary`.
        max_monthly: The budget in USD per month.

    Raises:
        BudgetExceededError: When the new total is over the budget (``exit_code`` 3).
    """
    if isinstance(plan_or_summary, Plan):
        plan = plan_or_summary
        if all(c.cost_before is None and c.cost_after is None for c in plan.changes):
            plan = price_plan(plan)
        summary = plan_costs(plan)
    else:
        summary = plan_or_summary
    limit = Decimal(max_monthly)
    if summary.new <= limit:
        return
    over = summary.new - limit
    excluded = (
        f" ({len(summary.not_priced)} resource(s) not priced are excluded)"
        if summary.not_priced
        else ""
    )
    raise BudgetExceededError(
        f"Estimated monthly cost {format_usd(summary.new)} is over the budget of "
        f"{format_usd(limit)} by {format_usd(over)}{excluded}.",
        new_total=summary.new,
        limit=limit,
        hint="shrink the stack (smaller tiers, fewer or spot nodes) or raise --max-monthly-cost "
        "/ the stack's budget",
    )
