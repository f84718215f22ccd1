"""Vertex AI machines for a step: the worker pool's machine and accelerators, or why not.

Facts (Compute Engine / Vertex AI custom training documentation, "GPU platforms"): accelerators
attach to N1 machines (T4, V100, P100, P4); A2 machines carry their own A100s (``a2-highgpu-Ng``
has N, ``a2-ultragpu-*`` the 80 GB ones), G2 their own L4s, A3 their own H100s; the other
families take none. Which region offers which GPU is read from the price catalog: a region the
catalog prices GPUs in but not this one is refused; a region it knows no GPU price for is not
checked (unknown is not "absent").

:func:`worker_machine` is what both the executor and ``flowyml run --dry-run`` use; its
refusals are one line with a fix, raised at bind time (:func:`check_step`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Machine", "MachineRefused", "accelerator_type", "machine_problem", "worker_machine"]

DEFAULT_MACHINE = "n1-standard-4"
"""Vertex AI's own default training machine, used when a step declares no shape."""

_ATTACHABLE = {  # family prefix -> GPUs that attach to it
    "n1": frozenset(
        {"nvidia-tesla-t4", "nvidia-tesla-v100", "nvidia-tesla-p100", "nvidia-tesla-p4"}
    ),
}
_BUILT_IN = {  # family prefix -> the GPU it carries
    "a2-highgpu": "nvidia-tesla-a100",
    "a2-megagpu": "nvidia-tesla-a100",
    "a2-ultragpu": "nvidia-a100-80gb",
    "g2-standard": "nvidia-l4",
    "a3-highgpu": "nvidia-h100-80gb",
}
# Families Vertex AI custom training offers that flowyml's catalog prices (shared-core excluded).
_TRAINING_FAMILIES = (
    "n1-standard",
    "n1-highmem",
    "n1-highcpu",
    "n2-standard",
    "n2-highmem",
    "n2-highcpu",
)


@dataclass(frozen=True)
class Machine:
    """The worker pool's machine.

    Attributes:
        machine_type: The machine type.
        accelerator: The GPU name (flowyml's spelling, ``nvidia-tesla-t4``), or ``None``.
        accelerator_count: How many.
        built_in: The GPUs come with the machine type (A2, G2, A3).
        chosen: The machine was picked from cpu/memory (no ``machine_type`` declared).
    """

    machine_type: str
    accelerator: str | None = None
    accelerator_count: int = 0
    built_in: bool = False
    chosen: bool = False


def accelerator_type(gpu: str) -> str:
    """The Vertex AI ``AcceleratorType`` name of a GPU: ``nvidia-tesla-v100`` -> ``NVIDIA_TESLA_V100``."""
    from flowyml.cost.machines import gpu_key

    return gpu_key(gpu).upper().replace("-", "_")


def _family(machine_type: str) -> str:
    return machine_type.rsplit("-", 1)[0]


def _built_in(machine_type: str) -> str | None:
    return next((gpu for prefix, gpu in _BUILT_IN.items() if machine_type.startswith(prefix)), None)


def machine_problem(resources: Mapping[str, Any] | None, region: str) -> tuple[str, str] | None:
    """``(what is wrong, how to fix)`` when Vertex AI cannot run these resources in ``region``."""
    try:
        worker_machine(resources, region)
    except MachineRefused as refused:
        return refused.message, refused.hint
    return None


class MachineRefused(Exception):
    """Vertex AI cannot run a step's resources: ``message`` and ``hint`` (how to fix)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _gpu_offered(gpu: str, region: str) -> bool | None:
    """Whether the price catalog lists ``gpu`` in ``region``; ``None``: it lists no GPU there."""
    from flowyml.cost.machines import gpu_key
    from flowyml.cost.prices import default_catalog

    prices = default_catalog().provider("gcp")
    listed = {e.sku for e in prices.in_service("gpu", region)}
    if not listed:
        return None
    return gpu_key(gpu) in listed


def worker_machine(resources: Mapping[str, Any] | None, region: str) -> Machine:
    """The machine a step with ``resources`` runs on in ``region`` (module docstring).

    Raises:
        MachineRefused: the GPU does not exist on that machine family or in that region, the machine
            type is not one flowyml knows, or no catalogued machine covers cpu/memory.
    """
    from flowyml.cost.machines import gpu_key
    from flowyml.cost.prices import default_catalog
    from flowyml.stacks.catalog import MACHINE_FAMILIES, MACHINE_TYPES
    from flowyml.stacks.quantities import parse_bytes, parse_cpu

    given = dict(resources or {})
    machine = given.get("machine_type")
    gpu = gpu_key(str(given["gpu"])) if given.get("gpu") else None
    count = int(given.get("gpu_count") or (1 if gpu else 0))
    if gpu is not None:
        offered = _gpu_offered(gpu, region)
        if offered is False:
            raise MachineRefused(
                f"GPU {gpu} is not offered in region {region} (not in flowyml's catalog of "
                "Vertex AI accelerators there)",
                "choose another gpu, or run the stack in a region that offers it",
            )
    if machine:
        machine = str(machine)
        if machine not in MACHINE_TYPES and _family(machine) in MACHINE_FAMILIES:
            raise MachineRefused(
                f"machine_type {machine} is not a size of the {_family(machine)} family",
                "check the machine type name (e.g. n1-standard-8)",
            )
        carried = _built_in(machine)
        if gpu is None:
            shape = MACHINE_TYPES.get(machine)
            built = shape.gpus if carried and shape is not None else 0
            return Machine(machine, carried if built else None, built, bool(built))
        if carried is not None:
            if carried != gpu:
                raise MachineRefused(
                    f"machine_type {machine} carries its own {carried} GPUs, not {gpu}",
                    f"use gpu='{carried}', or an n1 machine type for {gpu}",
                )
            shape = MACHINE_TYPES.get(machine)
            built = shape.gpus if shape is not None else count
            if count > built:
                raise MachineRefused(
                    f"machine_type {machine} has {built} {gpu} GPU(s), fewer than gpu_count={count}",
                    "choose a larger machine type of that family",
                )
            return Machine(machine, gpu, built, built_in=True)
        attachable = next((g for p, g in _ATTACHABLE.items() if machine.startswith(p + "-")), None)
        if attachable is None or gpu not in attachable:
            raise MachineRefused(
                f"GPU {gpu} does not attach to machine_type {machine} (family {_family(machine)})",
                "GPUs go on: n1 (T4, V100, P100, P4), a2 (A100), g2 (L4), a3 (H100)",
            )
        return Machine(machine, gpu, count)
    cores = parse_cpu(given["cpu"]) if given.get("cpu") else None
    memory = Decimal(parse_bytes(given["memory"])) / 2**30 if given.get("memory") else None
    if gpu in ("nvidia-tesla-a100",):
        sized = {
            1: "a2-highgpu-1g",
            2: "a2-highgpu-2g",
            4: "a2-highgpu-4g",
            8: "a2-highgpu-8g",
            16: "a2-megagpu-16g",
        }
        chosen = next((sized[n] for n in sorted(sized) if n >= count), None)
        if chosen is None:
            raise MachineRefused(f"no A2 machine has {count} A100 GPUs", "ask for at most 16")
        return Machine(chosen, gpu, MACHINE_TYPES[chosen].gpus, built_in=True, chosen=True)
    if gpu is not None and gpu not in _ATTACHABLE["n1"]:
        raise MachineRefused(
            f"GPU {gpu} comes only with its own machine family, which flowyml's catalog does "
            "not price",
            f"set machine_type (e.g. g2-standard-8 for nvidia-l4) with gpu='{gpu}'",
        )
    if cores is None and memory is None:
        return Machine(DEFAULT_MACHINE, gpu, count, chosen=True)
    prices = default_catalog().provider("gcp")
    # The generic cost fit would also take shared-core types Vertex AI does not train on.
    families: tuple[str, ...] = (
        ("n1-standard", "n1-highmem", "n1-highcpu") if gpu else _TRAINING_FAMILIES
    )
    best = None
    for entry in prices.in_service("compute", region):
        if not entry.sku.startswith(families) or "vcpu" not in entry.attrs:
            continue
        if cores is not None and Decimal(str(entry.attrs["vcpu"])) < cores:
            continue
        if memory is not None and Decimal(str(entry.attrs["memory_gb"])) < memory:
            continue
        if best is None or entry.price < best.price:
            best = entry
    if best is None:
        raise MachineRefused(
            f"no catalogued Vertex AI machine in {region} has cpu={given.get('cpu')} and "
            f"memory={given.get('memory')}",
            "set machine_type explicitly, or ask for less",
        )
    return Machine(best.sku, gpu, count, chosen=True)
