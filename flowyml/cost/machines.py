"""Machine, GPU and spot prices shared by the resource estimator and the run-cost estimator.

Invariant: every function returns ``None`` (never zero) when the catalog does not know the
machine, GPU or region; callers turn that into a "not priced" note.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flowyml.cost.prices import PriceEntry, ProviderCatalog

_MACHINE_SERVICE = {"gcp": "compute", "aws": "ec2"}

_GPU_ALIASES = {
    "t4": "nvidia-tesla-t4",
    "l4": "nvidia-l4",
    "v100": "nvidia-tesla-v100",
    "a100": "nvidia-tesla-a100",
    "a100-40gb": "nvidia-tesla-a100",
    "p100": "nvidia-tesla-p100",
}

_CUSTOM = re.compile(r"^(?:(?P<family>[a-z]\d)-)?custom-(?P<cpu>\d+)-(?P<mb>\d+)(?:-ext)?$")


def machine_service(provider: str) -> str:
    """The catalog service holding a provider's machine types (``compute`` or ``ec2``)."""
    return _MACHINE_SERVICE.get(provider, "compute")


def gpu_key(name: str) -> str:
    """Normalise a GPU name: ``T4``, ``tesla-t4``, ``nvidia-tesla-t4`` -> ``nvidia-tesla-t4``."""
    key = name.strip().lower().replace("_", "-")
    bare = key.removeprefix("nvidia-").removeprefix("tesla-")
    return _GPU_ALIASES.get(bare, key)


def machine_entry(catalog: ProviderCatalog, machine_type: str, region: str) -> PriceEntry | None:
    """The catalog entry of a predefined machine type in ``region``."""
    return catalog.get(machine_service(catalog.provider), machine_type.strip(), region)


def custom_machine_hourly(
    catalog: ProviderCatalog, machine_type: str, region: str
) -> Decimal | None:
    """Hourly price of a GCP custom machine type (``n1-custom-4-16384``, ``custom-2-7680``).

    Priced at the family's predefined per-vCPU and per-GB rates (custom types list about 5%
    higher; the caller notes it). ``None`` when the name is not a custom type or the family's
    rates are not catalogued.
    """
    match = _CUSTOM.match(machine_type.strip())
    if match is None or catalog.provider != "gcp":
        return None
    family = match["family"] or "n1"
    return vcpu_memory_hourly(
        catalog, Decimal(match["cpu"]), Decimal(match["mb"]) / 1024, region, family=family
    )


def vcpu_memory_hourly(
    catalog: ProviderCatalog, vcpu: Decimal, memory_gb: Decimal, region: str, family: str = "n1"
) -> Decimal | None:
    """Hourly price of ``vcpu`` cores and ``memory_gb`` GB at a GCP family's component rates."""
    cpu_rate = catalog.price("compute", f"{family}-vcpu", region)
    ram_rate = catalog.price("compute", f"{family}-ram", region)
    if cpu_rate is None or ram_rate is None:
        return None
    return vcpu * cpu_rate + memory_gb * ram_rate


def gpu_hourly(catalog: ProviderCatalog, gpu: str, region: str) -> Decimal | None:
    """Hourly price of one attachable GPU in ``region`` (GCP only; AWS bundles GPUs)."""
    return catalog.price("gpu", gpu_key(gpu), region)


def spot_discount(catalog: ProviderCatalog) -> Decimal | None:
    """The fraction taken off on-demand prices for spot/preemptible capacity."""
    return catalog.price(machine_service(catalog.provider), "spot-discount")


def smallest_fit(
    catalog: ProviderCatalog,
    region: str,
    vcpu: Decimal | None,
    memory_gb: Decimal | None,
    gpu: str | None = None,
    gpu_count: int = 0,
) -> PriceEntry | None:
    """The cheapest catalogued machine in ``region`` with at least the requested shape."""
    wanted_gpu = gpu_key(gpu) if gpu and gpu_count > 0 else None
    best: PriceEntry | None = None
    for entry in catalog.in_service(machine_service(catalog.provider), region):
        attrs = entry.attrs
        if "vcpu" not in attrs or entry.unit != "hour":
            continue
        if vcpu is not None and Decimal(str(attrs["vcpu"])) < vcpu:
            continue
        if memory_gb is not None and Decimal(str(attrs["memory_gb"])) < memory_gb:
            continue
        if wanted_gpu is not None and (
            attrs.get("gpu") != wanted_gpu or int(attrs.get("gpu_count", 0)) < gpu_count
        ):
            continue
        if wanted_gpu is None and attrs.get("gpu"):
            continue
        if best is None or entry.price < best.price:
            best = entry
    return best
