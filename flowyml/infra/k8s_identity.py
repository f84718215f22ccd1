"""The runner's namespace and Kubernetes service account inside a cluster the stack creates.

GKE (Workload Identity) and EKS (IRSA) both map a *Kubernetes* service account to the runner's
cloud identity; the mapping is an annotation on that account, so the account must exist in the
cluster, annotated, before a pod uses it. Both cloud programs declare it here through a
Kubernetes provider built from the new cluster's kubeconfig (which authenticates with the cloud
CLI's plugin: ``gke-gcloud-auth-plugin`` / ``aws eks get-token``, no key in it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MANAGED_LABELS = {"app.kubernetes.io/managed-by": "flowyml"}


def declare_runner_account(
    *,
    kubeconfig: Any,
    namespace: str,
    service_account: str,
    annotations: Mapping[str, Any],
    labels: Mapping[str, str],
) -> Any:
    """Declare the namespace and the annotated service account; returns the account.

    Args:
        kubeconfig: The new cluster's kubeconfig (an Output, secret).
        namespace: The runner's namespace (created).
        service_account: The Kubernetes service account step pods run as.
        annotations: The cloud identity binding (e.g. ``iam.gke.io/gcp-service-account``).
        labels: Labels marking the objects as the stack's.
    """
    import pulumi
    import pulumi_kubernetes as kubernetes
    import pulumi_kubernetes.core.v1 as core
    import pulumi_kubernetes.meta.v1 as meta

    tags = {**MANAGED_LABELS, **{f"flowyml.io/{k}": v for k, v in labels.items()}}
    provider = kubernetes.Provider("cluster-kubernetes", kubeconfig=kubeconfig)
    in_cluster = pulumi.ResourceOptions(provider=provider)
    ns = core.Namespace(
        "runner-namespace",
        metadata=meta.ObjectMetaArgs(name=namespace, labels=tags),
        opts=in_cluster,
    )
    return core.ServiceAccount(
        "runner-kubernetes-account",
        metadata=meta.ObjectMetaArgs(
            name=service_account,
            namespace=namespace,
            labels=tags,
            annotations=dict(annotations),
        ),
        opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[ns])),
    )
