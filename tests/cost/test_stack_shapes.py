"""Estimates of the stack shapes users declare: GPU and spot node pools, autoscaling, HA, usage.

Inputs are what the offline planner records for a GCPStack with a GKE GPU pool and an AWSStack
with EKS and a spot node group (checked against `flowyml stack preview NAME --offline --json`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from flowyml.core.plan import CREATE, Plan, ResourceChange
from flowyml.cost import (
    USAGE_FILE_NAME,
    Usage,
    estimate_resource,
    plan_costs,
    price_plan,
    project_usage,
    render_json,
)

D = Decimal
POOL = "gcp:container/nodePool:NodePool"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
N1_STANDARD_8 = D("0.379998")
T4 = D("0.35")
SPOT = D("0.40")  # 1 - the catalog's 60% planning discount
PD_BALANCED = D("0.10")

GPU_POOL = {
    "location": "us-central1",
    "nodeConfig": {
        "diskSizeGb": 200,
        "machineType": "n1-standard-8",
        "spot": True,
        "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}],
    },
    "autoscaling": {"maxNodeCount": 4, "minNodeCount": 0},
}
SPOT_GROUP = {
    "capacityType": "SPOT",
    "instanceTypes": ["g4dn.xlarge"],
    "scalingConfig": {"minSize": 0, "maxSize": 3, "desiredSize": 1},
    "diskSize": 100,
}


def test_regional_gpu_spot_pool_scales_from_zero_to_max_in_every_zone() -> None:
    est = estimate_resource(POOL, GPU_POOL)
    per_node = (N1_STANDARD_8 + T4) * SPOT * 730 + 200 * PD_BALANCED  # disks are not discounted
    assert est.priced
    assert est.monthly == 0  # no desired size given: priced at the minimum
    assert est.monthly_range == (0, per_node * 12)  # max 4 per zone x 3 zones
    assert str(est.monthly) == "0"  # never "0E-8" in JSON
    assert any("autoscaling 0-12" in n for n in est.notes)


def test_desired_size_is_priced_within_the_range() -> None:
    inputs = {**GPU_POOL, "nodeCount": 1, "nodeLocations": ["us-central1-a"]}
    est = estimate_resource(POOL, inputs)
    per_node = (N1_STANDARD_8 + T4) * SPOT * 730 + 200 * PD_BALANCED
    assert est.monthly == per_node
    assert est.monthly_range == (0, 4 * per_node)


def test_eks_spot_gpu_group_at_desired_size_in_eu_west_1() -> None:
    est = estimate_resource(NODE_GROUP, SPOT_GROUP, region="eu-west-1")
    per_node = D("0.587") * SPOT * 730 + 100 * D("0.11")  # EBS gp2, eu-west-1
    assert est.monthly == per_node
    assert est.monthly_range == (0, 3 * per_node)


def _plan(*changes: tuple[str, str, dict[str, object]]) -> Plan:
    return Plan(
        "s",
        "preview",
        "offline",
        tuple(ResourceChange(f"{t}::{n}", t, n, CREATE, after=a) for n, t, a in changes),
    )


def test_a_pool_at_zero_nodes_is_not_summarised_as_free() -> None:
    plan = price_plan(
        _plan(
            ("gpu", POOL, GPU_POOL),
            ("runner", "gcp:serviceaccount/account:Account", {"accountId": "r"}),
        )
    )
    summary = plan_costs(plan)
    assert summary.free == ("runner",)
    assert "gpu" in summary.priced
    assert summary.new == 0 and summary.new_range is not None and summary.new_range[1] > 0


def test_usage_file_moves_a_resource_from_usage_billed_to_included(tmp_path: Path) -> None:
    plan = _plan(
        ("artifacts", "gcp:storage/bucket:Bucket", {"location": "US-CENTRAL1"}),
        ("registry", "gcp:artifactregistry/repository:Repository", {"location": "us-central1"}),
    )
    bare = plan_costs(price_plan(plan))
    assert bare.usage_billed == ("artifacts", "registry") and bare.usage_included == ()
    usage = Usage(resources={"artifacts": {"GB-month": D(250)}})
    summary = plan_costs(price_plan(plan, usage=usage))
    assert summary.usage_included == ("artifacts",)
    assert summary.usage_billed == ("registry",)
    assert summary.new == 250 * D("0.020")
    cost = json.loads(render_json(price_plan(plan, usage=usage)))["cost"]
    assert cost["usage_included"] == ["artifacts"] and cost["usage_billed"] == ["registry"]


def test_project_usage_prefers_the_named_file_then_the_project_default(tmp_path: Path) -> None:
    assert project_usage(None, tmp_path) is None
    (tmp_path / USAGE_FILE_NAME).write_text("resources:\n  artifacts: {storage_gb: 5}\n")
    default = project_usage(None, tmp_path)
    assert default is not None and default.resources["artifacts"] == {"GB-month": D(5)}
    named = tmp_path / "other.yaml"
    named.write_text("types:\n  gcp:storage/bucket:Bucket: {storage_gb: 7}\n")
    chosen = project_usage(named, tmp_path)
    assert chosen is not None and chosen.resources == {}
    assert chosen.types["gcp:storage/bucket:Bucket"] == {"GB-month": D(7)}


@pytest.mark.parametrize(
    ("availability", "factor"),
    [("ZONAL", 1), ("REGIONAL", 2)],
)
def test_cloud_sql_regional_ha_doubles_instance_and_storage(availability: str, factor: int) -> None:
    inputs = {
        "region": "us-central1",
        "settings": {
            "tier": "db-custom-2-7680",
            "availabilityType": availability,
            "diskSize": 50,
            "diskType": "PD_SSD",
        },
    }
    est = estimate_resource("gcp:sql/databaseInstance:DatabaseInstance", inputs)
    single = (2 * D("0.0413") + D("7.5") * D("0.0070")) * 730 + 50 * D("0.170")
    assert est.monthly == factor * single
