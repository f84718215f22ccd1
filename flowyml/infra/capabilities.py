"""What each provider program cannot build, as data: one :class:`Limitation` per gap, with why.

``check_supported(stack)`` runs the table before any Pulumi resource is declared, so a stack a
program cannot honour fails early, in one line, with a ``To fix:`` hint. Field validation (names,
quantities, ranges) belongs to ``Stack.validate()``; this table is only about what a *provider
program* does not do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flowyml.infra.common import component_kind
from flowyml.infra.errors import UnsupportedFeatureError


@dataclass(frozen=True)
class Limitation:
    """One thing a provider program cannot do.

    Attributes:
        provider: The stack type it applies to (``gcp``, ``aws``, ``kubernetes``).
        feature: Short, stable name (for docs and tests).
        reason: Why the program does not do it.
        hint: What the user should change instead (shown after ``To fix:``).
        find: Yields the stack field paths where the stack asks for it.
    """

    provider: str
    feature: str
    reason: str
    hint: str
    find: Callable[[Any], Iterator[str]]


def _gke_pools(stack: Any) -> Iterator[tuple[str, Any]]:
    cluster = getattr(stack, "cluster", None)
    for i, pool in enumerate(getattr(cluster, "node_pools", None) or []):
        yield f"cluster.node_pools[{i}].resources", pool.resources


def _eks_groups(stack: Any) -> Iterator[tuple[str, Any]]:
    cluster = getattr(stack, "cluster", None)
    for i, group in enumerate(getattr(cluster, "node_groups", None) or []):
        yield f"cluster.node_groups[{i}].resources", group.resources


def _gke_gpu_without_machine_type(stack: Any) -> Iterator[str]:
    for path, res in _gke_pools(stack):
        if res.gpu and not res.machine_type:
            yield f"{path}.machine_type"


def _gke_gpu_on_e2(stack: Any) -> Iterator[str]:
    for path, res in _gke_pools(stack):
        if res.gpu and str(res.machine_type or "").startswith("e2-"):
            yield f"{path}.machine_type"


def _cloudsql_store_without_database(stack: Any) -> Iterator[str]:
    store = getattr(stack, "metadata_store", None)
    if component_kind(store) == "cloudsql" and getattr(stack, "database", None) is None:
        yield "database"


def _eks_gpu_field(stack: Any) -> Iterator[str]:
    for path, res in _eks_groups(stack):
        if res.gpu or res.gpu_count:
            yield f"{path}.gpu"


def _vertex_outside_gcp(stack: Any) -> Iterator[str]:
    """Components whose flavor only Google Cloud hosts (Vertex AI), on another provider."""
    from flowyml.stacks.flavors import flavor

    for field in ("executor", "orchestrator"):
        found = flavor(field, component_kind(getattr(stack, field, None)))  # type: ignore[arg-type]
        if found is not None and found.providers == frozenset({"gcp"}):
            yield field


def _managed_database_on_kubernetes(stack: Any) -> Iterator[str]:
    if component_kind(getattr(stack, "metadata_store", None)) == "cloudsql":
        yield "metadata_store"


LIMITATIONS: tuple[Limitation, ...] = (
    Limitation(
        "gcp",
        "gke-gpu-needs-machine-type",
        "GKE attaches GPUs only to machine families that accept accelerators (N1, A2, A3, G2), "
        "so the default e2 machine type cannot carry one",
        "set machine_type on that node pool, e.g. n1-standard-8 for nvidia-tesla-t4/v100, "
        "g2-standard-8 for nvidia-l4",
        _gke_gpu_without_machine_type,
    ),
    Limitation(
        "gcp",
        "gke-gpu-on-e2",
        "E2 machine types cannot have GPUs attached",
        "use an N1 (nvidia-tesla-t4/v100/p100), A2 (nvidia-tesla-a100) or G2 (nvidia-l4) "
        "machine type for GPU node pools",
        _gke_gpu_on_e2,
    ),
    Limitation(
        "gcp",
        "cloudsql-store-without-database",
        "a CloudSQLMetadataStore's URL comes from the Cloud SQL instance the program creates, "
        "and the stack declares no database to create",
        "add a `database:` section (CloudSQLSpec) or declare a PostgreSQLMetadataStore "
        "pointing at an existing server",
        _cloudsql_store_without_database,
    ),
    Limitation(
        "aws",
        "eks-gpu-accelerator",
        "EKS managed node groups get GPUs from the instance type; there is no accelerator to "
        "attach to a CPU instance",
        "drop gpu/gpu_count and set machine_type to a GPU instance type, e.g. g5.xlarge or "
        "p3.2xlarge",
        _eks_gpu_field,
    ),
    Limitation(
        "aws",
        "vertex-ai",
        "Vertex AI is a Google Cloud service; an AWS stack has no Vertex project to submit to",
        "use a KubernetesExecutor (with a `cluster:`) or a LocalExecutor on AWS, or move the "
        "pipeline to a GCPStack",
        _vertex_outside_gcp,
    ),
    Limitation(
        "kubernetes",
        "managed-database",
        "a Kubernetes stack provisions namespaced objects in an existing cluster, not a "
        "managed Cloud SQL database",
        "declare a PostgreSQLMetadataStore pointing at a reachable server, or use a GCPStack "
        "for Cloud SQL",
        _managed_database_on_kubernetes,
    ),
    Limitation(
        "kubernetes",
        "vertex-ai",
        "Vertex AI runs on Google Cloud, outside the cluster this stack targets",
        "use a KubernetesExecutor on a Kubernetes stack, or a GCPStack for Vertex AI",
        _vertex_outside_gcp,
    ),
)
"""Every known limitation of the provider programs."""


def limitations_for(provider: str) -> tuple[Limitation, ...]:
    """The limitations of one provider's program."""
    return tuple(item for item in LIMITATIONS if item.provider == provider)


def find_unsupported(stack: Any) -> list[tuple[Limitation, str]]:
    """Every ``(limitation, field path)`` that applies to ``stack``, in table order."""
    provider = str(getattr(stack, "stack_type", ""))
    return [(item, path) for item in limitations_for(provider) for path in item.find(stack)]


def check_supported(stack: Any) -> None:
    """Raise for the first limitation that applies to ``stack``.

    Raises:
        UnsupportedFeatureError: naming the field, the reason, and (as ``To fix:``) the hint.
    """
    found = find_unsupported(stack)
    if not found:
        return
    item, path = found[0]
    more = f" ({len(found) - 1} more problem(s) after this one)" if len(found) > 1 else ""
    raise UnsupportedFeatureError(
        f"the {item.provider} program cannot build stack '{stack.name}' as declared: "
        f"{path}: {item.reason}{more}.",
        provider=item.provider,
        feature=item.feature,
        path=path,
        hint=item.hint,
    )
