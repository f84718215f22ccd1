"""The budget gate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowyml.core.errors import FlowymlError
from flowyml.core.plan import CREATE, DELETE, Plan, ResourceChange
from flowyml.cost import (
    BudgetExceededError,
    CostError,
    UnpricedBudgetError,
    check_budget,
    plan_costs,
    price_plan,
)


def test_a_total_at_the_budget_passes_and_a_cent_less_fails(plan: Plan) -> None:
    """The gate is "over the budget", not "at it": the boundary is where a flipped comparison
    (< for <=) would show."""
    priced = price_plan(plan)
    total = plan_costs(priced).new
    assert total > 0  # else the boundary below would be the trivial one
    # The standard plan holds an unpriced NAT: the boundary is checked on the priced total.
    check_budget(priced, total, allow_unpriced=True)  # exactly at the budget: passes
    check_budget(priced, total + Decimal("0.01"), allow_unpriced=True)
    with pytest.raises(BudgetExceededError) as info:
        check_budget(priced, total - Decimal("0.01"), allow_unpriced=True)
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
    assert "1 resource(s) not priced are excluded: nat" in text
    assert "To fix:" in text


def test_an_unpriced_plan_is_priced_first(plan: Plan) -> None:
    with pytest.raises(BudgetExceededError):
        check_budget(plan, Decimal(50))


def test_a_resource_with_no_price_fails_the_gate_under_budget_and_is_named(plan: Plan) -> None:
    """Fail closed: the NAT has no price rule, so a total under the budget proves nothing."""
    priced = price_plan(plan)
    roomy = plan_costs(priced).new + 1000
    with pytest.raises(UnpricedBudgetError) as info:
        check_budget(priced, roomy)
    err = info.value
    assert err.exit_code == 3 and isinstance(err, CostError)
    assert err.not_priced == (("nat", "no price rule for gcp:compute/routerNat:RouterNat"),)
    text = str(err)
    assert "1 resource(s) are not priced" in text and "nat (no price rule" in text
    assert "--allow-unpriced" in text
    check_budget(priced, roomy, allow_unpriced=True)  # the explicit opt-out passes


def test_a_region_typo_makes_the_database_unpriced_and_fails_a_tiny_budget() -> None:
    """The issue's case: `--max-monthly-cost 1` used to pass because nothing was priced."""
    sql = "gcp:sql/databaseInstance:DatabaseInstance"
    after = {"region": "us-centrall1", "settings": {"tier": "db-f1-micro", "diskSize": 10}}
    typo = Plan(
        "prod",
        "preview",
        "offline",
        (ResourceChange(f"{sql}::db", sql, "db", CREATE, after=after),),
    )
    priced = price_plan(typo)
    assert plan_costs(priced).new == 0  # nothing priced: the old gate saw $0 <= $1
    with pytest.raises(UnpricedBudgetError) as info:
        check_budget(priced, Decimal(1))
    assert [name for name, _ in info.value.not_priced] == ["db"]
    assert "us-centrall1" in str(info.value)


def test_deleting_an_unpriced_resource_does_not_fail_the_gate() -> None:
    """A deletion leaves nothing behind: its missing price cannot push the new total up."""
    nat = "gcp:compute/routerNat:RouterNat"
    plan = Plan(
        "prod",
        "preview",
        "offline",
        (ResourceChange(f"{nat}::nat", nat, "nat", DELETE, before={"region": "us-central1"}),),
    )
    priced = price_plan(plan)
    assert plan_costs(priced).not_priced == ("nat",)
    check_budget(priced, Decimal(1))  # passes without --allow-unpriced


def test_a_summary_counts_every_unpriced_resource(plan: Plan) -> None:
    summary = plan_costs(price_plan(plan))
    with pytest.raises(UnpricedBudgetError):
        check_budget(summary, summary.new + 1)
    check_budget(summary, summary.new + 1, allow_unpriced=True)
