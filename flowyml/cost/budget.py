"""The budget gate: fail a preview or an apply whose new monthly total is over a limit.

Invariant: the gate fails closed. A resource the catalog cannot price (a region or tier typo, a
type with no price rule) could cost anything, so a plan holding one fails the gate unless the
caller allows unpriced resources explicitly (``--allow-unpriced``); the error names them.
"""

from __future__ import annotations

from decimal import Decimal

from flowyml.core.plan import Plan
from flowyml.cost.errors import BudgetExceededError, UnpricedBudgetError
from flowyml.cost.money import format_usd
from flowyml.cost.planning import CostSummary, is_priced, plan_costs, price_plan


def _unpriced_after(plan: Plan, summary: CostSummary) -> tuple[tuple[str, str], ...]:
    """``(name, reason)`` of the resources the plan keeps or creates that have no price.

    A deletion whose old side was not priced leaves nothing behind, so it cannot push the new
    total over the budget: it does not fail the gate.
    """
    reasons = dict(summary.reasons)
    names = [c.name for c in plan.changes if c.cost_after is not None and not is_priced(c)]
    return tuple((name, reasons.get(name, "unknown")) for name in dict.fromkeys(names))


def check_budget(
    plan_or_summary: Plan | CostSummary,
    max_monthly: Decimal,
    *,
    allow_unpriced: bool = False,
) -> None:
    """Raise when the plan's new monthly total is over ``max_monthly``, or cannot be known.

    A plan that carries no cost estimates yet is priced first (with the packaged catalog and
    the provider default regions). Resources that are not priced are excluded from the total;
    unless ``allow_unpriced``, any of them (created or kept by the plan) fails the gate.

    Args:
        plan_or_summary: A (priced) plan or its :class:`CostSummary`. With a summary every
            resource it lists as not priced counts (it cannot tell deletions apart).
        max_monthly: The budget in USD per month.
        allow_unpriced: Gate on the priced resources only (the unpriced ones are named in the
            error when the total is over anyway).

    Raises:
        BudgetExceededError: The priced total is over the budget (``exit_code`` 3).
        UnpricedBudgetError: Resources are not priced and ``allow_unpriced`` is False
            (``exit_code`` 3).
    """
    if isinstance(plan_or_summary, Plan):
        plan = plan_or_summary
        if all(c.cost_before is None and c.cost_after is None for c in plan.changes):
            plan = price_plan(plan)
        summary = plan_costs(plan)
        unpriced = _unpriced_after(plan, summary)
    else:
        summary = plan_or_summary
        unpriced = summary.reasons
    limit = Decimal(max_monthly)
    if summary.new > limit:
        over = summary.new - limit
        excluded = (
            f" ({len(unpriced)} resource(s) not priced are excluded: "
            f"{', '.join(name for name, _ in unpriced)})"
            if unpriced
            else ""
        )
        raise BudgetExceededError(
            f"Estimated monthly cost {format_usd(summary.new)} is over the budget of "
            f"{format_usd(limit)} by {format_usd(over)}{excluded}.",
            new_total=summary.new,
            limit=limit,
            hint="shrink the stack (smaller tiers, fewer or spot nodes) or raise "
            "--max-monthly-cost / the stack's budget",
        )
    if unpriced and not allow_unpriced:
        listed = "; ".join(f"{name} ({reason})" for name, reason in unpriced)
        raise UnpricedBudgetError(
            f"The budget of {format_usd(limit)} cannot be checked: {len(unpriced)} resource(s) "
            f"are not priced, so the plan could cost anything: {listed}.",
            not_priced=unpriced,
            hint="correct what the catalog does not know (often a region or tier typo; "
            "`flowyml cost catalog` lists what it prices), or pass --allow-unpriced to gate on "
            f"the priced resources only ({format_usd(summary.new)}/mo)",
        )
