"""Price rules for Google Cloud resources (Pulumi ``gcp:`` type tokens).

Each rule maps a resource's camelCase inputs to a :class:`CostEstimate` using only the GCP
catalog. Defaults follow the Pulumi/GCP defaults (node disk 100 GB pd-balanced, node machine
e2-medium, Cloud SQL disk 10 GB PD_SSD).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from flowyml.core.plan import CostEstimate
from flowyml.cost._bill import Bill, not_priced
from flowyml.cost._inputs import as_bool, as_int, get, is_gcp_region, number
from flowyml.cost.machines import (
    custom_machine_hourly,
    gpu_hourly,
    gpu_key,
    machine_entry,
    spot_discount,
)
from flowyml.cost.prices import ProviderCatalog

Rule = Callable[[Mapping[str, Any], str, ProviderCatalog], CostEstimate]

ZONES_PER_REGION = 3
"""Zones a regional GKE node pool spreads over when ``nodeLocations`` is not given."""

_STORAGE_CLASS_ALIASES = {"REGIONAL": "STANDARD", "MULTI_REGIONAL": "STANDARD"}
_SQL_DISK = {"PD_SSD": "storage-ssd", "PD_HDD": "storage-hdd"}
_SHARED_TIERS = ("db-f1-micro", "db-g1-small")
_LEGACY_MEMORY_PER_CPU = {"standard": Decimal("3.75"), "highmem": Decimal("6.5")}


def bucket(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """A GCS bucket: usage-billed per GB-month of its storage class at its location."""
    storage_class = str(get(inputs, "storageClass", "STANDARD")).upper()
    storage_class = _STORAGE_CLASS_ALIASES.get(storage_class, storage_class)
    bill = Bill()
    bill.rate(
        "GB-month",
        f"{storage_class} storage in {region}",
        catalog.price("storage", storage_class, region),
    )
    bill.note("operations and egress not included")
    return bill.estimate()


def sql_instance(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """A Cloud SQL instance: tier (shared-core or vCPU + RAM) and disk, doubled for HA."""
    tier = get(inputs, "settings.tier")
    if not isinstance(tier, str):
        return not_priced("not priced: Cloud SQL tier unknown")
    version = str(get(inputs, "databaseVersion", "POSTGRES"))
    if version.upper().startswith("SQLSERVER"):
        return not_priced("not priced: SQL Server licences are not in the catalog")
    if str(get(inputs, "settings.edition", "ENTERPRISE")).upper() == "ENTERPRISE_PLUS":
        return not_priced("not priced: Cloud SQL Enterprise Plus is not in the catalog")
    bill = Bill()
    multiplier = Decimal(1)
    if str(get(inputs, "settings.availabilityType", "ZONAL")).upper() == "REGIONAL":
        ha = catalog.price("sql", "ha-multiplier")
        multiplier = ha if ha is not None else Decimal(2)
        bill.note("REGIONAL (HA): instance and storage billed twice")
    if tier in _SHARED_TIERS:
        price = catalog.price("sql", tier, region)
        bill.hourly(f"tier {tier} in {region}", None if price is None else price * multiplier)
    else:
        shape = _sql_shape(tier)
        if shape is None:
            bill.hourly(f"tier {tier}", None)
        else:
            vcpu, memory_gb = shape
            cpu = catalog.price("sql", "vcpu", region)
            ram = catalog.price("sql", "ram", region)
            if cpu is None or ram is None:
                bill.hourly(f"tier {tier} in {region}", None)
            else:
                bill.hourly(f"tier {tier}", (vcpu * cpu + memory_gb * ram) * multiplier)
    disk_type = str(get(inputs, "settings.diskType", "PD_SSD")).upper()
    disk_gb = number(get(inputs, "settings.diskSize"), Decimal(10))
    sku = _SQL_DISK.get(disk_type)
    rate = None if sku is None else catalog.price("sql", sku, region)
    bill.per_month(
        f"{disk_type} storage in {region}", None if rate is None else rate * multiplier, disk_gb
    )
    if as_bool(get(inputs, "settings.diskAutoresize", True)):
        bill.note(f"{disk_gb} GB disk priced; auto-resize may grow it")
    return bill.estimate()


def _sql_shape(tier: str) -> tuple[Decimal, Decimal] | None:
    """(vCPUs, GB) of a dedicated-core tier: ``db-custom-2-7680``, ``db-n1-standard-2``."""
    parts = tier.split("-")
    if (
        len(parts) == 4
        and parts[:2] == ["db", "custom"]
        and parts[2].isdigit()
        and parts[3].isdigit()
    ):
        return Decimal(parts[2]), Decimal(parts[3]) / 1024
    if len(parts) == 4 and parts[:2] == ["db", "n1"] and parts[3].isdigit():
        per_cpu = _LEGACY_MEMORY_PER_CPU.get(parts[2])
        if per_cpu is not None:
            return Decimal(parts[3]), Decimal(parts[3]) * per_cpu
    return None


def artifact_repository(
    inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog
) -> CostEstimate:
    """An Artifact Registry repository: usage-billed per GB-month stored."""
    bill = Bill()
    bill.rate("GB-month", "Artifact Registry storage", catalog.price("registry", "storage", region))
    bill.note("first 0.5 GB a month free; egress not included")
    return bill.estimate()


def cluster(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """A GKE cluster: the management fee, plus its default node pool unless it is removed."""
    bill = Bill()
    bill.hourly("GKE cluster management fee", catalog.price("gke", "cluster-management-fee"))
    if as_bool(get(inputs, "enableAutopilot", False)):
        bill.note("Autopilot: pods are billed by their requests, not estimated here")
        return bill.estimate()
    if as_bool(get(inputs, "removeDefaultNodePool", False)):
        bill.note("default node pool removed; node pools priced separately")
        return bill.estimate()
    nodes = as_int(get(inputs, "initialNodeCount"), 1) * _zones(inputs, bill)
    node = _node(get(inputs, "nodeConfig", {}), region, catalog)
    bill.missing.extend(node.missing)
    bill.monthly += node.monthly * nodes
    bill.note(f"default node pool: {nodes} node(s)")
    for text in node.notes:
        bill.note(text)
    return bill.estimate()


def node_pool(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """A GKE node pool: per node machine + GPUs + boot disk, times the node count.

    With autoscaling the estimate is at ``nodeCount`` (else ``initialNodeCount``, else the
    minimum), and ``monthly_range`` spans the minimum to the maximum size.
    """
    node = _node(get(inputs, "nodeConfig", {}), region, catalog)
    zones = _zones(inputs, node)
    autoscaling = get(inputs, "autoscaling")
    if isinstance(autoscaling, Mapping) and autoscaling:
        total_min = get(autoscaling, "totalMinNodeCount")
        total_max = get(autoscaling, "totalMaxNodeCount")
        if total_min is not None or total_max is not None:
            low = as_int(total_min, 0)
            high = max(low, as_int(total_max, low))
            per_zone = 1
        else:
            low = as_int(get(autoscaling, "minNodeCount"), 0)
            high = max(low, as_int(get(autoscaling, "maxNodeCount"), low))
            per_zone = zones
        low, high = low * per_zone, high * per_zone
        wanted = get(inputs, "nodeCount", get(inputs, "initialNodeCount"))
        count = low if wanted is None else min(max(as_int(wanted, low) * zones, low), high)
        node.note(f"autoscaling {low}-{high} nodes; priced at {count}")
        return node.estimate(scale=(count, low, high))
    count = as_int(get(inputs, "nodeCount", get(inputs, "initialNodeCount")), 1) * zones
    node.note(f"{count} node(s)")
    return node.estimate(scale=(count, count, count))


def compute_instance(
    inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog
) -> CostEstimate:
    """A Compute Engine VM: machine type, GPUs and boot disk."""
    config = {
        "machineType": get(inputs, "machineType"),
        "spot": str(get(inputs, "scheduling.provisioningModel", "")).upper() == "SPOT",
        "preemptible": get(inputs, "scheduling.preemptible", False),
        "guestAccelerators": get(inputs, "guestAccelerators", []),
        "diskSizeGb": get(inputs, "bootDisk.initializeParams.size", 10),
        "diskType": get(inputs, "bootDisk.initializeParams.type", "pd-standard"),
    }
    if config["machineType"] is None:
        return not_priced("not priced: machine type unknown")
    return _node(config, region, catalog).estimate()


def disk(inputs: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> CostEstimate:
    """A persistent disk: GB-month of its type."""
    disk_type = str(get(inputs, "type", "pd-standard"))
    size = number(get(inputs, "size"), Decimal(10))
    bill = Bill()
    bill.per_month(f"disk {disk_type} in {region}", catalog.price("disk", disk_type, region), size)
    return bill.estimate()


def _zones(inputs: Mapping[str, Any], bill: Bill) -> int:
    locations = get(inputs, "nodeLocations")
    if isinstance(locations, list) and locations:
        return len(locations)
    location = get(inputs, "location")
    if isinstance(location, str) and is_gcp_region(location):
        bill.note(f"regional: nodes in each of {ZONES_PER_REGION} zones")
        return ZONES_PER_REGION
    return 1


def _node(config: Mapping[str, Any], region: str, catalog: ProviderCatalog) -> Bill:
    """Monthly cost of one node: machine, attached GPUs and boot disk (spot discounted)."""
    bill = Bill()
    machine = str(get(config, "machineType", "e2-medium"))
    spot = as_bool(get(config, "spot", False)) or as_bool(get(config, "preemptible", False))
    factor = Decimal(1)
    if spot:
        discount = spot_discount(catalog)
        if discount is None:
            bill.missing.append("spot discount")
        else:
            factor = 1 - discount
            bill.note(f"spot/preemptible: {discount * 100:.0f}% off on-demand assumed")
    entry = machine_entry(catalog, machine, region)
    gpus_included = bool(entry is not None and entry.attrs.get("gpus_included"))
    if entry is not None:
        bill.hourly(f"machine {machine}", entry.price * factor)
    else:
        custom = custom_machine_hourly(catalog, machine, region)
        if custom is not None:
            bill.note(f"{machine} priced at predefined rates (custom types list ~5% higher)")
        bill.hourly(
            f"machine type {machine} in {region}", None if custom is None else custom * factor
        )
    accelerators = get(config, "guestAccelerators", [])
    for accelerator in accelerators if isinstance(accelerators, list) else []:
        gpu = str(get(accelerator, "type", ""))
        count = as_int(get(accelerator, "count"), 1)
        if gpus_included:
            bill.note(f"{machine} already includes its GPUs; {gpu} not added")
            continue
        price = gpu_hourly(catalog, gpu, region)
        bill.hourly(
            f"GPU {gpu_key(gpu)} in {region}", None if price is None else price * factor, count
        )
    disk_type = str(get(config, "diskType", "pd-balanced"))
    disk_gb = number(get(config, "diskSizeGb"), Decimal(100))
    bill.per_month(
        f"disk {disk_type} in {region}", catalog.price("disk", disk_type, region), disk_gb
    )
    return bill


RULES: dict[str, Rule] = {
    "gcp:storage/bucket:Bucket": bucket,
    "gcp:sql/databaseInstance:DatabaseInstance": sql_instance,
    "gcp:artifactregistry/repository:Repository": artifact_repository,
    "gcp:container/cluster:Cluster": cluster,
    "gcp:container/nodePool:NodePool": node_pool,
    "gcp:compute/instance:Instance": compute_instance,
    "gcp:compute/disk:Disk": disk,
}

FREE: frozenset[str] = frozenset(
    {
        "gcp:serviceaccount/account:Account",
        "gcp:serviceaccount/key:Key",
        "gcp:projects/service:Service",
        "gcp:sql/database:Database",
        "gcp:sql/user:User",
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:compute/firewall:Firewall",
        "gcp:storage/bucketObject:BucketObject",
    }
)
"""Types that cost nothing in themselves (IAM bindings are matched by name, see estimator)."""
