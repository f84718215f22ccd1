"""The budget gate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowyml.core.errors import FlowymlError
from flowyml.core.plan import Plan
from flowyml.cost import BudgetExceededError, CostError, check_budget, plan_costs, price_plan


def test_a_total_at_the_budget_passes_and_a_cent_less_fails(plan: Plan) -> None:
    """The gate is "over the budget", not "at it": the boundary is where a flipped comparison
    (< for <=) would show."""
    priced = price_plan(plan)
    total = plan_costs(priced).new
    assert total > 0  # else the boundary below would be the trivial one
    check_budget(priced, total)  # exactly at the budget: passes (raising would fail the test)
    check_budget(priced, total + Decimal("0.01"))
    with pytest.raises(BudgetExceededError) as info:
        check_budget(priced, total - Decimal("0.01"))
    assert info.value.over_by == Decimal("0.01")


def test_over_budget_raises_with_exit_code_3_and_says_by_how_much(plan: Plan) -> None:
    summary = plan_costs(price_plan(plan))
    with pytest.raises(BudgetExceededError) as info:
        check_budget(summary, Decimal(100))
    err = info.value
    assert isinstance(err, CostError) and isinstance(err, FlowymlError)
    assert err.exit_code == 3
    assert err.limit == 100 and err.new_total == summary.new
    assert err.over_by == summary.new - 100
    text = str(err)
    assert "$100.00" in text and f"${summary.new - 100:,.2f}" in text
    assert "1 resource(s) not priced are excluded" in text
    assert "To fix:" in text


def test_an_unpriced_plan_is_priced_first(plan: Plan) -> None:
    with pytest.raises(BudgetExceededError):
        check_budget(plan, Decimal(50))
