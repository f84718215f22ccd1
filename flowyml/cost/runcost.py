"""What a pipeline step costs to run: an hourly price from its resources and executor.

Kept independent of :mod:`flowyml.stacks`: ``resources`` is a mapping (or any object) with the
``ResourceConfig`` keys ``cpu``, ``memory``, ``gpu``, ``gpu_count``, ``machine_type`` and
``preemptible``, so a recorded ``StepRecord.resources`` can be passed straight in.

Formula (one place): ``hourly = machine (or vCPU x rate + GB x rate) + GPUs x rate``, times
the Vertex AI training markup on Vertex, times ``1 - spot discount`` when preemptible;
``step cost = hourly x seconds / 3600``. How a kind is priced is its flavor's ``price_rule``
(:mod:`flowyml.stacks.flavors`): ``free`` costs $0, ``vertex`` adds the markup, ``kubernetes``
is the step's share of its node (``max(cpu, memory, GPU requests / node capacity) x node
price``, when the node pool's machine type is known), ``unpriced`` is "not priced". A recorded
step is priced from the executor it really ran on (``StepRecord.executor``). Not included:
disks, network, storage, and the minimum billing increments of each service.
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

# Spellings of a kind other than its flavor's (the GCP program exports ``executor: vertex``).
_ALIASES = {"vertex": "vertex_ai", "vertexai": "vertex_ai", "vertex-ai": "vertex_ai"}


def price_rule(executor_kind: str | None) -> str:
    """The flavor's price rule of an executor kind (``unpriced`` for a kind no flavor has)."""
    from flowyml.stacks.flavors import executor_flavor

    kind = (executor_kind or "local").strip().lower()
    kind = kind.removesuffix("_executor").removesuffix("executor") or "local"
    found = executor_flavor(_ALIASES.get(kind, kind))
    return found.price_rule if found is not None else "unpriced"


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
    rule = price_rule(executor_kind)
    if rule == "free":
        return Decimal(0)
    if resources is None:
        return None
    machine = _field(resources, "machine_type")
    gpu = _field(resources, "gpu")
    gpu_count = int(as_decimal(_field(resources, "gpu_count"), Decimal(0)) or 0)
    if gpu and gpu_count == 0:
        gpu_count = 1
    prices = (catalog or default_catalog()).provider(_provider(rule, machine, region, catalog))
    where = region or prices.default_region
    if where not in prices.regions:
        return None
    hourly = _machine_hourly(prices, where, machine, resources, gpu, gpu_count)
    if hourly is None:
        return None
    if rule == "vertex":
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


def _provider(rule: str, machine: Any, region: str | None, catalog: Catalog | None) -> str:
    if rule == "vertex":
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
        declared = getattr(getattr(stack, "executor", None), "kind", None)
        kind = getattr(step, "executor", None) or declared or "local"  # where it really ran
        resources = step.resources or getattr(stack, "resources", None)
        region = getattr(stack, "region", None)
        rule = price_rule(kind)
        if rule == "unpriced":
            hourly = None
        elif rule == "kubernetes":
            hourly = node_share_hourly(resources, node_pools(stack), region, catalog=catalog)
        else:
            hourly = hourly_price(resources, kind, region, catalog=catalog)
        costs[step.name] = None if hourly is None else step_cost(hourly, step.duration)
    return costs


def node_pools(stack: Any) -> list[Any]:
    """The declared node pools (GKE) or node groups (EKS) of a stack's cluster, if any."""
    cluster = getattr(stack, "cluster", None)
    if cluster is None:
        return []
    pools = getattr(cluster, "node_pools", None) or getattr(cluster, "node_groups", None) or []
    return [getattr(pool, "resources", None) for pool in pools]


def node_share_hourly(
    resources: Mapping[str, Any] | Any | None,
    pools: Iterable[Any],
    region: str | None = None,
    *,
    catalog: Catalog | None = None,
) -> Decimal | None:
    """Hourly price of a pod's share of its node: ``max(request / capacity) x node price``.

    The node is the pool that fits the step (its GPU, its ``machine_type``, else the first pool
    without GPUs). ``None`` when no pool is known, its machine type has no catalogued shape or
    price, or the step declares no cpu/memory (its requests are then unknown here).
    """
    step_gpu = _field(resources, "gpu")
    machine = _field(resources, "machine_type")
    cpu = _cpu(_field(resources, "cpu"))
    memory = _memory_gib(_field(resources, "memory"))
    if resources is None or (cpu is None and memory is None and not machine):
        return None
    candidates = [p for p in pools if p is not None and _field(p, "machine_type")]
    if step_gpu:
        from flowyml.cost.machines import gpu_key

        candidates = [
            p
            for p in candidates
            if _field(p, "gpu") and gpu_key(str(_field(p, "gpu"))) == gpu_key(str(step_gpu))
        ]
    elif machine:
        candidates = [p for p in candidates if _field(p, "machine_type") == machine]
    else:
        candidates = [p for p in candidates if not _field(p, "gpu")]
    if not candidates:
        return None
    pool = candidates[0]
    pool_machine = str(_field(pool, "machine_type"))
    prices = (catalog or default_catalog()).provider(
        _provider("kubernetes", pool_machine, region, catalog)
    )
    entry = machine_entry(prices, pool_machine, region or prices.default_region)
    node_hourly = hourly_price(pool, "kubernetes", region, catalog=catalog)
    if entry is None or node_hourly is None or "vcpu" not in entry.attrs:
        return None
    if machine == pool_machine and cpu is None and memory is None:
        return node_hourly  # the whole node
    shares = [Decimal(0)]
    if cpu is not None:
        shares.append(cpu / Decimal(str(entry.attrs["vcpu"])))
    if memory is not None:
        shares.append(memory / Decimal(str(entry.attrs["memory_gb"])))
    gpus = int(as_decimal(_field(resources, "gpu_count"), Decimal(0)) or 0) or (
        1 if step_gpu else 0
    )
    pool_gpus = int(as_decimal(_field(pool, "gpu_count"), Decimal(0)) or 0)
    if gpus and pool_gpus:
        shares.append(Decimal(gpus) / pool_gpus)
    return node_hourly * min(Decimal(1), max(shares))
