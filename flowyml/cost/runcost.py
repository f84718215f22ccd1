"""What a pipeline step costs to run: an hourly price from its resources and executor.

Kept independent of :mod:`flowyml.stacks`: ``resources`` is a mapping (or any object) with the
``ResourceConfig`` keys ``cpu``, ``memory``, ``gpu``, ``gpu_count``, ``machine_type`` and
``preemptible``, so a recorded ``StepRecord.resources`` can be passed straight in.

Formula (one place): ``hourly = machine (or vCPU x rate + GB x rate) + GPUs x rate``, times
the Vertex AI training markup on Vertex, times ``1 - spot discount`` when preemptible;
``step cost = hourly x seconds / 3600``. The local executor costs $0. Not included: disks,
network, storage, and the minimum billing increments of each service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from flowyml.cost._inputs import as_decimal
from flowyml.cost.machines import (
    custom_machine_hourly,
    gpu_hourly,
    machine_entry,
    smallest_fit,
    spot_discount,
    vcpu_memory_hourly,
)
from flowyml.cost.prices import Catalog, ProviderCatalog, default_catalog

FREE_EXECUTORS = frozenset({"local"})
_VERTEX = frozenset({"vertex", "vertexai", "vertex_ai", "vertex-ai"})


def hourly_price(
    resources: Mapping[str, Any] | Any | None,
    executor_kind: str,
    region: str | None = None,
    *,
    catalog: Catalog | None = None,
) -> Decimal | None:
    """Hourly USD price of running one step.

    Args:
        resources: ``ResourceConfig``-like mapping or object (``None``: nothing declared).
        executor_kind: ``local``, ``vertex``, ``kubernetes``, ``remote``...
        region: Region the step runs in; the provider's default when ``None``.
        catalog: The price catalog; the packaged one by default.

    Returns:
        ``Decimal(0)`` for the local executor; ``None`` when the price is unknown (no
        resources declared, unknown machine type, GPU or region).
    """
    kind = executor_kind.strip().lower().removesuffix("_executor").removesuffix("executor")
    if kind in FREE_EXECUTORS:
        return Decimal(0)
    if resources is None:
        return None
    machine = _field(resources, "machine_type")
    gpu = _field(resources, "gpu")
    gpu_count = int(as_decimal(_field(resources, "gpu_count"), Decimal(0)) or 0)
    if gpu and gpu_count == 0:
        gpu_count = 1
    prices = (catalog or default_catalog()).provider(_provider(kind, machine, region, catalog))
    where = region or prices.default_region
    if where not in prices.regions:
        return None
    hourly = _machine_hourly(prices, where, machine, resources, gpu, gpu_count)
    if hourly is None:
        return None
    if kind in _VERTEX:
        markup = prices.price("vertex", "training-markup")
        if markup is None:
            return None
        hourly *= markup
    if bool(_field(resources, "preemptible")):
        discount = spot_discount(prices)
        if discount is None:
            return None
        hourly *= 1 - discount
    return hourly


def step_cost(hourly: Decimal | None, duration_seconds: float | Decimal | None) -> Decimal | None:
    """Cost of a step that ran ``duration_seconds`` at ``hourly``; ``None`` when either is unknown."""
    if hourly is None or duration_seconds is None:
        return None
    return hourly * Decimal(str(duration_seconds)) / 3600


def _machine_hourly(
    prices: ProviderCatalog,
    region: str,
    machine: Any,
    resources: Any,
    gpu: Any,
    gpu_count: int,
) -> Decimal | None:
    cpu = _cpu(_field(resources, "cpu"))
    memory = _memory_gib(_field(resources, "memory"))
    gpus_included = False
    if machine:
        entry = machine_entry(prices, str(machine), region)
        if entry is not None:
            hourly: Decimal | None = entry.price
            gpus_included = bool(entry.attrs.get("gpus_included"))
        else:
            hourly = custom_machine_hourly(prices, str(machine), region)
    elif prices.provider == "gcp":
        if cpu is None and memory is None:
            return None
        hourly = vcpu_memory_hourly(prices, cpu or Decimal(1), memory or Decimal("3.75"), region)
    else:
        fit = smallest_fit(prices, region, cpu, memory, str(gpu) if gpu else None, gpu_count)
        return None if fit is None else fit.price
    if hourly is None:
        return None
    if gpu and gpu_count and not gpus_included:
        if prices.provider != "gcp":
            return None  # AWS GPUs come with the instance type; a CPU type has none to add
        per_gpu = gpu_hourly(prices, str(gpu), region)
        if per_gpu is None:
            return None
        hourly += per_gpu * gpu_count
    return hourly


def _provider(kind: str, machine: Any, region: str | None, catalog: Catalog | None) -> str:
    if kind in _VERTEX:
        return "gcp"
    if isinstance(machine, str) and "." in machine:
        return "aws"
    if region is not None and region in (catalog or default_catalog()).provider("aws").regions:
        return "aws"
    return "gcp"


def _field(resources: Any, key: str) -> Any:
    if isinstance(resources, Mapping):
        return resources.get(key)
    return getattr(resources, key, None)


def _cpu(value: Any) -> Decimal | None:
    from flowyml.stacks.errors import QuantityError
    from flowyml.stacks.quantities import parse_cpu

    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_cpu(value)
    except QuantityError:
        return None


def _memory_gib(value: Any) -> Decimal | None:
    """GiB from a Kubernetes-style quantity (``"32Gi"``, ``"8G"``) or a number of bytes."""
    from flowyml.stacks.errors import QuantityError
    from flowyml.stacks.quantities import parse_bytes

    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(parse_bytes(value)) / 2**30
    except QuantityError:
        return None


def run_step_costs(
    steps: Iterable[Any],
    stack_for: Callable[[str | None], Any | None],
    *,
    catalog: Catalog | None = None,
) -> dict[str, Decimal | None]:
    """Estimated USD cost of each recorded step: its stack's executor price x its duration.

    Args:
        steps: ``StepRecord``-like objects (``name``, ``stack``, ``resources``, ``duration``,
            ``cached``, ``started_at``).
        stack_for: Stack name -> its declaration (``executor.kind``, ``resources``, ``region``),
            or ``None`` when the stack is no longer known.
        catalog: The price catalog; the packaged one by default.

    Returns:
        Step name -> cost; ``Decimal(0)`` for cached steps and steps that never ran, ``None``
        when the price or the duration is unknown.
    """
    stacks: dict[str | None, Any] = {}
    costs: dict[str, Decimal | None] = {}
    for step in steps:
        if step.cached or step.started_at is None:  # served from the cache, or never ran
            costs[step.name] = Decimal(0)
            continue
        if step.stack not in stacks:
            stacks[step.stack] = stack_for(step.stack)
        stack = stacks[step.stack]
        if stack is None or step.duration is None:
            costs[step.name] = None
            continue
        executor = getattr(stack, "executor", None)
        kind = getattr(executor, "kind", "local") if executor is not None else "local"
        resources = step.resources or getattr(stack, "resources", None)
        hourly = hourly_price(resources, kind, getattr(stack, "region", None), catalog=catalog)
        costs[step.name] = None if hourly is None else step_cost(hourly, step.duration)
    return costs
