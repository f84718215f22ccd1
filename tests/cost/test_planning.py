"""Pricing a plan and its diff arithmetic: create, in-place tier change, replace, delete."""

from __future__ import annotations

from decimal import Decimal

from flowyml.core.plan import CREATE, READ, UPDATE, Plan, ResourceChange
from flowyml.cost import change_delta, plan_costs, price_plan

D = Decimal
GKE = D("73.00")
F1 = D("0.0105") * 730 + 10 * D("0.170")
G1 = D("0.0350") * 730 + 10 * D("0.170")
E2_4 = D("0.134012") * 730
N1_4 = D("0.189999") * 730


def test_price_plan_fills_before_from_before_and_after_from_after(plan: Plan) -> None:
    priced = price_plan(plan).by_address()
    by_name = {c.name: c for c in priced.values()}
    create, update, replace, delete = (by_name[n] for n in ("gke", "metadata", "cpu", "old|data"))
    assert create.cost_before is None and create.cost_after is not None
    assert create.cost_after.monthly == GKE
    assert update.cost_before is not None and update.cost_before.monthly == F1
    assert update.cost_after is not None and update.cost_after.monthly == G1
    assert replace.cost_before is not None and replace.cost_before.monthly == E2_4
    assert replace.cost_after is not None and replace.cost_after.monthly == N1_4
    assert delete.cost_after is None and delete.cost_before is not None
    assert delete.cost_before.usage_rates == {"GB-month": D("0.020")}


def test_change_deltas(plan: Plan) -> None:
    by_name = {c.name: c for c in price_plan(plan).changes}
    assert change_delta(by_name["gke"]) == GKE
    assert change_delta(by_name["metadata"]) == G1 - F1
    assert change_delta(by_name["cpu"]) == N1_4 - E2_4
    assert change_delta(by_name["old|data"]) == 0
    assert change_delta(by_name["nat"]) is None


def test_plan_totals(plan: Plan) -> None:
    summary = plan_costs(price_plan(plan))
    assert summary.baseline == F1 + E2_4
    assert summary.new == GKE + G1 + N1_4
    assert summary.delta == GKE + (G1 - F1) + (N1_4 - E2_4)
    assert set(summary.free) == {"runner", "api"}
    assert summary.not_priced == ("nat",)
    assert "no price rule" in dict(summary.reasons)["nat"]
    assert summary.usage_billed == ("old|data",)
    assert summary.new_range is None


def test_a_side_not_priced_leaves_the_change_out_of_both_totals() -> None:
    change = ResourceChange(
        "a",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "db",
        UPDATE,
        before={"settings": {"tier": "db-f1-micro"}},
        after={"settings": {"tier": "db-mystery-1"}},
    )
    summary = plan_costs(price_plan(Plan("s", "preview", "offline", (change,))))
    assert summary.baseline == 0 and summary.new == 0
    assert summary.not_priced == ("db",)


def test_reads_are_not_priced_and_autoscaling_ranges_add_up() -> None:
    pool = "gcp:container/nodePool:NodePool"
    inputs = {
        "location": "us-central1-a",
        "autoscaling": {"minNodeCount": 1, "maxNodeCount": 3},
        "nodeConfig": {"machineType": "e2-standard-4", "diskSizeGb": 0},
    }
    changes = (
        ResourceChange("r", "gcp:organizations/getProject:getProject", "project", READ, after={}),
        ResourceChange("p", pool, "pool", CREATE, after=inputs),
    )
    priced = price_plan(Plan("s", "preview", "offline", changes))
    assert priced.changes[0].cost_after is None
    summary = plan_costs(priced)
    assert summary.new == E2_4
    assert summary.new_range == (E2_4, 3 * E2_4)
    assert summary.to_dict()["new_monthly_range"] == [str(E2_4), str(3 * E2_4)]
