"""Price rules for AWS resources (Pulumi ``aws:`` type tokens).

Defaults follow AWS/Pulumi defaults: RDS storage gp2, EKS node group t3.medium with a 20 GB gp2
disk, EC2 root volume 8 GB gp2 (AMI-dependent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from flowyml.core.plan import CostEstimate
from flowyml.cost._bill import Bill, not_priced
from flowyml.cost._inputs import as_bool, as_decimal, as_int, get, number
from flowyml.cost.machines import machine_entry, spot_discount
from flowyml.cost.prices import ProviderCatalog

Rule = Callable[[Mapping[str, Any], str, ProviderCatalog], CostEstimate]

_RDS_ENGINES_AT_POSTGRES_RATES = ("postgres", "mysql", "mariadb")


def s3_bucket(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """An S3 bucket: usage-billed per GB-month of S3 Standard."""
    bill = Bill()
    bill.rate("GB-month", f"S3 Standard in {region}", catalog.price("s3", "STANDARD", region))
    bill.note("requests and egress not included; noncurrent versions count as storage")
    return bill.estimate()


def rds_instance(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """An RDS instance: instance class and allocated storage, doubled for Multi-AZ."""
    instance_class = get(inputs, "instanceClass")
    if not isinstance(instance_class, str):
        return not_priced("not priced: RDS instance class unknown")
    engine = str(get(inputs, "engine", "postgres")).lower()
    if engine not in _RDS_ENGINES_AT_POSTGRES_RATES:
        return not_priced(f"not priced: RDS engine {engine} is not in the catalog")
    bill = Bill()
    if engine != "postgres":
        bill.note(f"{engine} priced at PostgreSQL rates (list prices differ by a few %)")
    multiplier = Decimal(1)
    if as_bool(get(inputs, "multiAz", False)):
        multi = catalog.price("rds", "multi-az-multiplier")
        multiplier = multi if multi is not None else Decimal(2)
        bill.note("Multi-AZ: instance and storage billed twice")
    price = catalog.price("rds", instance_class, region)
    bill.hourly(f"{instance_class} in {region}", None if price is None else price * multiplier)
    storage_type = str(get(inputs, "storageType", "io1" if get(inputs, "iops") else "gp2")).lower()
    storage_gb = number(get(inputs, "allocatedStorage"), Decimal(20))
    rate = catalog.price("rds", f"storage-{storage_type}", region)
    bill.per_month(
        f"{storage_type} storage in {region}",
        None if rate is None else rate * multiplier,
        storage_gb,
    )
    return bill.estimate()


def ecr_repository(
    inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog
) -> CostEstimate:
    """An ECR repository: usage-billed per GB-month stored."""
    bill = Bill()
    bill.rate("GB-month", "ECR storage", catalog.price("ecr", "storage", region))
    bill.note("data transfer not included")
    return bill.estimate()


def eks_cluster(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """An EKS cluster: the control plane, per hour."""
    bill = Bill()
    bill.hourly("EKS control plane", catalog.price("eks", "cluster", region))
    bill.note("nodes priced by their node groups")
    return bill.estimate()


def eks_node_group(
    inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog
) -> CostEstimate:
    """An EKS managed node group: instance + disk per node, times the desired size."""
    types = get(inputs, "instanceTypes", ["t3.medium"])
    instance_type = str(types[0]) if isinstance(types, list) and types else "t3.medium"
    spot = str(get(inputs, "capacityType", "ON_DEMAND")).upper() == "SPOT"
    node = Bill()
    if isinstance(types, list) and len(types) > 1:
        node.note(f"priced at the first instance type, {instance_type}")
    _instance(node, instance_type, spot, region, catalog)
    disk_gb = number(get(inputs, "diskSize"), Decimal(20))
    node.per_month(f"EBS gp2 in {region}", catalog.price("ebs", "gp2", region), disk_gb)
    low = as_int(get(inputs, "scalingConfig.minSize"), 1)
    high = max(low, as_int(get(inputs, "scalingConfig.maxSize"), low))
    count = as_int(get(inputs, "scalingConfig.desiredSize"), low)
    if low != high:
        node.note(f"scaling {low}-{high} nodes; priced at {count}")
    else:
        node.note(f"{count} node(s)")
    return node.estimate(scale=(count, low, high))


def ec2_instance(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """An EC2 instance: instance type (spot when requested) and root volume."""
    instance_type = get(inputs, "instanceType")
    if not isinstance(instance_type, str):
        return not_priced("not priced: instance type unknown")
    spot = str(get(inputs, "instanceMarketOptions.marketType", "")).lower() == "spot"
    bill = Bill()
    _instance(bill, instance_type, spot, region, catalog)
    volume_type = str(get(inputs, "rootBlockDevice.volumeType", "gp2")).lower()
    volume_gb = as_decimal(get(inputs, "rootBlockDevice.volumeSize"), None)
    if volume_gb is None:
        volume_gb = Decimal(8)
        bill.note("root volume assumed 8 GB (depends on the AMI)")
    bill.per_month(
        f"EBS {volume_type} in {region}", catalog.price("ebs", volume_type, region), volume_gb
    )
    return bill.estimate()


def ebs_volume(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """An EBS volume: GB-month of its type."""
    volume_type = str(get(inputs, "type", "gp2")).lower()
    size = as_decimal(get(inputs, "size"), None)
    if size is None:
        return not_priced("not priced: volume size unknown")
    bill = Bill()
    bill.per_month(
        f"EBS {volume_type} in {region}", catalog.price("ebs", volume_type, region), size
    )
    return bill.estimate()


def _instance(
    bill: Bill, instance_type: str, spot: bool, region: str, catalog: ProviderCatalog
) -> None:
    entry = machine_entry(catalog, instance_type, region)
    factor = Decimal(1)
    if spot:
        discount = spot_discount(catalog)
        if discount is None:
            bill.missing.append("spot discount")
        else:
            factor = 1 - discount
            bill.note(f"spot: {discount * 100:.0f}% off on-demand assumed")
    bill.hourly(
        f"instance type {instance_type} in {region}",
        None if entry is None else entry.price * factor,
    )


RULES: dict[str, Rule] = {
    "aws:s3/bucket:Bucket": s3_bucket,
    "aws:s3/bucketV2:BucketV2": s3_bucket,
    "aws:rds/instance:Instance": rds_instance,
    "aws:ecr/repository:Repository": ecr_repository,
    "aws:eks/cluster:Cluster": eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": eks_node_group,
    "aws:ec2/instance:Instance": ec2_instance,
    "aws:ebs/volume:Volume": ebs_volume,
}

FREE_PREFIXES: tuple[str, ...] = ("aws:iam/",)
"""Modules whose resources cost nothing in themselves."""

FREE: frozenset[str] = frozenset(
    {
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:eks/addon:Addon",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    }
)
"""Types that cost nothing in themselves. (S3 bucket configuration resources: see estimator.)"""
