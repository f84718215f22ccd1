"""The budget gate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowyml.core.errors import FlowymlError
from flowyml.core.plan import Plan
from flowyml.cost import BudgetExceededError, CostError, check_budget, plan_costs, price_plan


def test_under_budget_passes(plan: Plan) -> None:
    check_budget(price_plan(plan), Decimal(1000))


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
