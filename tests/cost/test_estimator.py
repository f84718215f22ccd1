"""Per-resource estimates checked against the published list prices the catalog cites.

Sources (as of 2024-06-01):
- https://cloud.google.com/compute/vm-instance-pricing  n1-standard-4 us-central1 $0.189999/h
- https://cloud.google.com/compute/gpus-pricing         T4 $0.35/h per GPU
- https://cloud.google.com/compute/disks-image-pricing  pd-balanced $0.10/GB-month
- https://cloud.google.com/sql/pricing                  db-f1-micro $0.0105/h, SSD $0.17/GB-month
- https://cloud.google.com/kubernetes-engine/pricing    $0.10 per cluster per hour
- https://aws.amazon.com/rds/postgresql/pricing/        db.t3.micro $0.018/h, gp2 $0.115/GB-month
- https://aws.amazon.com/eks/pricing/                   $0.10 per cluster per hour
- https://aws.amazon.com/s3/pricing/                    S3 Standard $0.023/GB-month
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowyml.cost import Usage, estimate_resource

D = Decimal
N1_STANDARD_4 = D("0.189999")
T4 = D("0.35")


def test_gke_cluster_management_fee_is_73_a_month() -> None:
    est = estimate_resource(
        "gcp:container/cluster:Cluster", {"location": "us-central1", "removeDefaultNodePool": True}
    )
    assert est.priced and est.monthly == D("73.00")


def test_eks_control_plane_is_73_a_month() -> None:
    assert estimate_resource("aws:eks/cluster:Cluster", {"name": "ml"}).monthly == D("73.00")


def test_node_pool_n1_standard_4_with_a_t4() -> None:
    est = estimate_resource(
        "gcp:container/nodePool:NodePool",
        {
            "location": "us-central1-a",
            "nodeCount": 2,
            "nodeConfig": {
                "machineType": "n1-standard-4",
                "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}],
                "diskSizeGb": 50,
                "diskType": "pd-balanced",
            },
        },
    )
    per_node = (N1_STANDARD_4 + T4) * 730 + 50 * D("0.10")
    assert est.monthly == 2 * per_node
    assert est.monthly_range is None


def test_node_pool_defaults_to_a_100gb_pd_balanced_disk() -> None:
    est = estimate_resource(
        "gcp:container/nodePool:NodePool",
        {"nodeCount": 1, "nodeConfig": {"machineType": "n1-standard-4"}},
        region="us-central1",
    )
    assert est.monthly == N1_STANDARD_4 * 730 + 100 * D("0.10")


def test_spot_node_pool_takes_the_documented_discount_off_machine_and_gpu() -> None:
    inputs = {
        "nodeCount": 1,
        "nodeConfig": {
            "machineType": "n1-standard-4",
            "spot": True,
            "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}],
            "diskSizeGb": 0,
        },
    }
    est = estimate_resource("gcp:container/nodePool:NodePool", inputs)
    assert est.monthly == (N1_STANDARD_4 + T4) * D("0.40") * 730
    assert any("60%" in n for n in est.notes)


def test_autoscaling_node_pool_prices_the_minimum_with_a_range() -> None:
    inputs = {
        "location": "us-central1-b",
        "autoscaling": {"minNodeCount": 1, "maxNodeCount": 4},
        "nodeConfig": {"machineType": "e2-standard-4", "diskSizeGb": 0},
    }
    est = estimate_resource("gcp:container/nodePool:NodePool", inputs)
    node = D("0.134012") * 730
    assert est.monthly == node
    assert est.monthly_range == (node, 4 * node)


def test_regional_node_pool_counts_nodes_per_zone() -> None:
    inputs = {"location": "us-central1", "nodeCount": 1, "nodeConfig": {"diskSizeGb": 0}}
    est = estimate_resource("gcp:container/nodePool:NodePool", inputs)
    assert est.monthly == 3 * D("0.033503") * 730  # default e2-medium x 3 zones


def test_a2_machine_bundles_its_gpu() -> None:
    inputs = {
        "nodeCount": 1,
        "nodeConfig": {
            "machineType": "a2-highgpu-1g",
            "guestAccelerators": [{"type": "nvidia-tesla-a100", "count": 1}],
            "diskSizeGb": 0,
        },
    }
    est = estimate_resource("gcp:container/nodePool:NodePool", inputs)
    assert est.monthly == D("3.673385") * 730


def test_cloud_sql_db_f1_micro() -> None:
    est = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance",
        {
            "region": "us-central1",
            "settings": {"tier": "db-f1-micro", "diskSize": 10, "diskType": "PD_SSD"},
        },
    )
    assert est.monthly == D("0.0105") * 730 + 10 * D("0.170")  # $7.665 + $1.70


def test_cloud_sql_custom_tier_high_availability_doubles() -> None:
    zonal = {"tier": "db-custom-2-7680", "diskSize": 20, "diskType": "PD_HDD"}
    est_zonal = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance", {"region": "us-east1", "settings": zonal}
    )
    est_ha = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"region": "us-east1", "settings": {**zonal, "availabilityType": "REGIONAL"}},
    )
    expected = (2 * D("0.0413") + D("7.5") * D("0.0070")) * 730 + 20 * D("0.090")
    assert est_zonal.monthly == expected
    assert est_ha.monthly == 2 * expected


def test_rds_db_t3_micro_and_multi_az() -> None:
    inputs = {
        "instanceClass": "db.t3.micro",
        "allocatedStorage": 20,
        "storageType": "gp2",
        "engine": "postgres",
    }
    single = estimate_resource("aws:rds/instance:Instance", inputs, region="us-east-1")
    multi = estimate_resource(
        "aws:rds/instance:Instance", {**inputs, "multiAz": True}, region="us-east-1"
    )
    assert single.monthly == D("0.018") * 730 + 20 * D("0.115")  # $13.14 + $2.30
    assert multi.monthly == 2 * single.monthly


def test_eks_node_group_spot_with_scaling_range() -> None:
    inputs = {
        "instanceTypes": ["m5.large"],
        "capacityType": "SPOT",
        "diskSize": 20,
        "scalingConfig": {"desiredSize": 2, "minSize": 1, "maxSize": 3},
    }
    est = estimate_resource("aws:eks/nodeGroup:NodeGroup", inputs, region="us-west-2")
    node = D("0.096") * D("0.40") * 730 + 20 * D("0.10")
    assert est.monthly == 2 * node
    assert est.monthly_range == (node, 3 * node)


def test_ec2_instance() -> None:
    est = estimate_resource(
        "aws:ec2/instance:Instance",
        {
            "instanceType": "g4dn.xlarge",
            "rootBlockDevice": {"volumeSize": 100, "volumeType": "gp3"},
        },
    )
    assert est.monthly == D("0.526") * 730 + 100 * D("0.08")


@pytest.mark.parametrize(
    ("token", "inputs", "unit_price"),
    [
        (
            "gcp:storage/bucket:Bucket",
            {"location": "US-CENTRAL1", "storageClass": "STANDARD"},
            "0.020",
        ),
        ("gcp:storage/bucket:Bucket", {"location": "EU", "storageClass": "COLDLINE"}, "0.007"),
        ("gcp:artifactregistry/repository:Repository", {"location": "us-central1"}, "0.10"),
        ("aws:s3/bucket:Bucket", {}, "0.023"),
        ("aws:s3/bucketV2:BucketV2", {}, "0.023"),
        ("aws:ecr/repository:Repository", {}, "0.10"),
    ],
)
def test_storage_is_usage_billed(token: str, inputs: dict[str, object], unit_price: str) -> None:
    est = estimate_resource(token, inputs)
    assert est.priced and est.monthly == 0
    assert est.usage_rates == {"GB-month": D(unit_price)}
    assert not est.is_free


def test_usage_turns_rates_into_monthly_numbers() -> None:
    usage = Usage(
        resources={"artifacts": {"GB-month": D(250)}},
        types={"aws:s3/bucket:Bucket": {"GB-month": D(100)}},
    )
    by_type = estimate_resource("aws:s3/bucket:Bucket", {}, usage=usage)
    by_name = estimate_resource("aws:s3/bucket:Bucket", {}, usage=usage, name="artifacts")
    assert by_type.monthly == D("2.300")
    assert by_name.monthly == D("5.750")


@pytest.mark.parametrize(
    "token",
    [
        "gcp:serviceaccount/account:Account",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:projects/service:Service",
        "random:index/randomPassword:RandomPassword",
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "kubernetes:core/v1:Namespace",
        "kubernetes:apps/v1:Deployment",
        "pulumi:pulumi:Stack",
        "pulumi:providers:gcp",
        "pulumi:providers:kubernetes",
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "gcp:sql/user:User",
        "aws:eks/addon:Addon",
        "flowyml:local:ArtifactRoot",
        "flowyml:local:SqliteDatabase",
    ],
)
def test_free_types(token: str) -> None:
    est = estimate_resource(token, {"anything": 1})
    assert est.is_free and est.monthly == 0


@pytest.mark.parametrize(
    ("token", "inputs", "region", "why"),
    [
        (
            "gcp:container/nodePool:NodePool",
            {"nodeConfig": {"machineType": "zz-huge-9"}},
            None,
            "zz-huge-9",
        ),
        (
            "gcp:compute/instance:Instance",
            {"machineType": "n1-standard-4", "zone": "asia-east1-a"},
            None,
            "asia-east1",
        ),
        ("aws:eks/cluster:Cluster", {}, "ap-south-1", "ap-south-1"),
        ("aws:rds/instance:Instance", {"instanceClass": "db.x2g.large"}, None, "db.x2g.large"),
        ("aws:ec2/natGateway:NatGateway", {}, None, "no price rule"),
        ("azure-native:storage:StorageAccount", {}, None, "no price rule"),
        (
            "gcp:sql/databaseInstance:DatabaseInstance",
            {"settings": {"tier": "db-perf-optimized-N-2"}},
            None,
            "tier",
        ),
    ],
)
def test_unknown_is_not_priced_never_zero(
    token: str, inputs: dict[str, object], region: str | None, why: str
) -> None:
    est = estimate_resource(token, inputs, region=region)
    assert not est.priced and est.monthly is None
    assert any(why in note for note in est.notes)


def test_region_from_inputs_wins_over_argument() -> None:
    inputs = {"region": "europe-west1", "settings": {"tier": "db-f1-micro", "diskSize": 10}}
    eu = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance", inputs, region="us-central1"
    )
    us = estimate_resource(
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": inputs["settings"]},
        region="us-central1",
    )
    assert eu.monthly is not None and us.monthly is not None and eu.monthly > us.monthly
