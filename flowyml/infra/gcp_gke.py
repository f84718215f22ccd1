"""The optional GKE part of the GCP program: a cluster and one node pool per ``NodePoolSpec``.

How a ``ResourceConfig`` becomes a node pool:

- ``machine_type`` -> ``nodeConfig.machineType`` (``e2-standard-4`` when not declared);
- ``disk_size`` -> ``nodeConfig.diskSizeGb`` (100 GiB when not declared);
- ``gpu`` + ``gpu_count`` -> one ``guestAccelerators`` entry with the driver installed by GKE;
- ``preemptible`` -> ``nodeConfig.spot`` (Spot VMs supersede preemptible VMs on GKE);
- ``autoscaling`` -> ``autoscaling.minNodeCount`` / ``maxNodeCount`` from ``min_nodes`` /
  ``max_nodes`` (per zone); otherwise a fixed ``nodeCount`` of ``NodePoolSpec.node_count``.

The default node pool is removed; nodes run as the stack's runtime service account with
Workload Identity, so pods get no broader identity than the runner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowyml.infra.common import to_gib

if TYPE_CHECKING:
    import pulumi

DEFAULT_MACHINE_TYPE = "e2-standard-4"
DEFAULT_DISK_GB = 100


@dataclass(frozen=True)
class GKECluster:
    """What the rest of the program needs from the cluster."""

    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]


def node_config_args(resources: Any, service_account_email: Any) -> dict[str, Any]:
    """The ``NodePoolNodeConfigArgs`` keyword arguments for a ``ResourceConfig``.

    Pure (no Pulumi import), so the mapping is testable on its own.
    """
    args: dict[str, Any] = {
        "machine_type": getattr(resources, "machine_type", None) or DEFAULT_MACHINE_TYPE,
        "disk_size_gb": to_gib(_disk_bytes(resources), DEFAULT_DISK_GB),
        "spot": bool(getattr(resources, "preemptible", False)),
        "service_account": service_account_email,
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
    }
    gpu = getattr(resources, "gpu", None)
    if gpu:
        args["guest_accelerators"] = [
            {"type": gpu, "count": max(1, int(getattr(resources, "gpu_count", 0) or 0))}
        ]
    return args


def scaling_args(resources: Any, node_count: int) -> dict[str, Any]:
    """Either ``{"autoscaling": {min, max}, "initial_node_count": n}`` or ``{"node_count": n}``.

    An autoscaled pool starts at the declared ``node_count`` clamped into [min, max]; it is set
    as ``initial_node_count`` (``node_count`` would fight the autoscaler on every update), and
    the cost estimate reads it as the pool's desired size.
    """
    if getattr(resources, "autoscaling", False):
        low, high = int(resources.min_nodes), int(resources.max_nodes)
        return {
            "autoscaling": {"min_node_count": low, "max_node_count": high},
            "initial_node_count": min(max(int(node_count), low), high),
        }
    return {"node_count": int(node_count)}


def _disk_bytes(resources: Any) -> int | None:
    disk_bytes = getattr(resources, "disk_bytes", None)
    return disk_bytes() if callable(disk_bytes) else None


def declare_cluster(
    spec: Any, *, project: str, region: str, account: Any, opts: pulumi.ResourceOptions
) -> GKECluster:
    """Declare the GKE cluster and its node pools.

    Args:
        spec: The ``GKEClusterSpec``.
        project: GCP project id.
        region: Region of the (regional) cluster.
        account: The runtime ``serviceaccount.Account``; nodes run as it.
        opts: Options carrying the dependency on the Kubernetes Engine API.
    """
    import pulumi
    import pulumi_gcp.container as container

    cluster = container.Cluster(
        "cluster",
        name=spec.name,
        project=project,
        location=region,
        remove_default_node_pool=True,
        initial_node_count=1,
        deletion_protection=bool(getattr(spec, "deletion_protection", False)),
        release_channel=container.ClusterReleaseChannelArgs(channel="REGULAR"),
        workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{project}.svc.id.goog"
        ),
        opts=opts,
    )
    for pool in spec.node_pools:
        config = node_config_args(pool.resources, account.email)
        accelerators = [
            container.NodePoolNodeConfigGuestAcceleratorArgs(
                type=acc["type"],
                count=acc["count"],
                gpu_driver_installation_config=(
                    container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                        gpu_driver_version="DEFAULT"
                    )
                ),
            )
            for acc in config.pop("guest_accelerators", [])
        ]
        scaling = scaling_args(pool.resources, pool.node_count)
        autoscaling = scaling.get("autoscaling")
        container.NodePool(
            f"pool-{pool.name}",
            name=pool.name,
            project=project,
            location=region,
            cluster=cluster.name,
            node_count=scaling.get("node_count"),
            initial_node_count=scaling.get("initial_node_count"),
            autoscaling=container.NodePoolAutoscalingArgs(**autoscaling) if autoscaling else None,
            management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=container.NodePoolNodeConfigArgs(
                **config,
                guest_accelerators=accelerators or None,
                workload_metadata_config=container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
            ),
        )

    endpoint = cluster.endpoint.apply(lambda host: f"https://{host}")
    kubeconfig = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
    ).apply(lambda v: gke_kubeconfig(name=v[0], endpoint=v[1], ca_certificate=v[2] or ""))
    return GKECluster(endpoint=endpoint, kubeconfig=pulumi.Output.secret(kubeconfig))


def gke_kubeconfig(*, name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig authenticating with ``gke-gcloud-auth-plugin`` (no key in the file).

    Args:
        name: Cluster name (used for the cluster, user and context entries).
        endpoint: The cluster's API host (IP or name, no scheme).
        ca_certificate: The cluster CA, base64 as GKE reports it.
    """
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {name}\n  cluster:\n    server: https://{endpoint}\n"
        f"    certificate-authority-data: {ca_certificate}\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
        f"current-context: {name}\n"
        f"users:\n- name: {name}\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: gke-gcloud-auth-plugin\n"
        "      provideClusterInfo: true\n"
    )
