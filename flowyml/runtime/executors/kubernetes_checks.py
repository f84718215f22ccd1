"""What a Kubernetes cluster cannot run, said before anything is built or submitted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowyml.runtime.errors import BindingError
from flowyml.runtime.executors.kubernetes_access import ClusterTarget, api_client, cluster_target

__all__ = ["check"]


def check(bound: Any, steps: Sequence[Any]) -> None:
    """Refuse, before anything is built or submitted, steps this cluster cannot run.

    A GPU step on a cluster whose declared node pools have no GPU, a ``machine_type`` no pool
    has, and ``preemptible`` on a cluster of unknown flavour (no spot label to select) are
    each one-line ``BindingError``; so is a cluster that cannot be reached from the stack's
    kubeconfig or recorded outputs (loaded here, so no image is built for a run that cannot go).
    """
    api_client(bound).close()
    target = cluster_target(bound)
    defaults = getattr(bound.declaration, "resources", None)
    for step in steps:
        resources = step.resources_dict() if hasattr(step, "resources_dict") else None
        if not resources and defaults is not None:
            resources = defaults.model_dump(mode="json", exclude_none=True)
        problem = _cluster_problem(target, dict(resources or {}))
        if problem is not None:
            message, hint = problem
            raise BindingError(f"stack {bound.name}: step '{step.name}' {message}", hint=hint)


def _cluster_problem(target: ClusterTarget, resources: dict[str, Any]) -> tuple[str, str] | None:
    gpu = resources.get("gpu")
    machine = resources.get("machine_type")
    pools = target.node_pools
    if pools is not None and (gpu or resources.get("gpu_count")):
        from flowyml.cost.machines import gpu_key
        from flowyml.stacks.catalog import MACHINE_TYPES

        def has_gpu(pool: dict[str, Any]) -> bool:
            if pool.get("gpu") and (not gpu or gpu_key(str(pool["gpu"])) == gpu_key(str(gpu))):
                return True
            shape = MACHINE_TYPES.get(str(pool.get("machine_type") or ""))
            return bool(shape and shape.gpus) and not gpu

        if not any(has_gpu(pool) for _name, pool in pools):
            names = ", ".join(name for name, _pool in pools)
            return (
                f"asks for GPU {gpu or ''} x{resources.get('gpu_count') or 1} but the cluster's "
                f"node pools ({names}) have none of that type, so its pod could never be scheduled",
                "add a node pool with that gpu to the stack's cluster (and `flowyml stack up`), "
                "or run the step on a stack that has one",
            )
    if (
        pools is not None
        and machine
        and not any(pool.get("machine_type") == machine for _name, pool in pools)
    ):
        types = ", ".join(sorted({str(p.get("machine_type")) for _n, p in pools}))
        return (
            f"asks for machine_type {machine} but the cluster's node pools are {types}",
            "use one of those machine types, or add a node pool of that type",
        )
    if resources.get("preemptible") and target.provider is None:
        return (
            "asks for preemptible capacity, but the cluster is not a GKE or EKS cluster "
            "flowyml provisioned, so there is no spot node label to select",
            "remove preemptible, or run the step on a GCP/AWS stack with a cluster",
        )
    return None
