"""The optional GKE part of the GCP program: a cluster and one node pool per ``NodePoolSpec``.

How a ``ResourceConfig`` becomes a node pool:

- ``machine_type`` -> ``nodeConfig.machineType`` (``e2-standard-4`` when not declared);
- ``disk_size`` -> ``nodeConfig.diskSizeGb`` (100 GiB when not declared);
- ``gpu`` + ``gpu_count`` -> one ``guestAccelerators`` entry with the driver installed by GKE;
- ``preemptible`` -> ``nodeConfig.spot`` (Spot VMs supersede preemptible VMs on GKE);
- ``autoscaling`` -> ``autoscaling.minNodeCount`` / ``maxNodeCount`` from ``min_nodes`` /
  ``max_nodes`` (per zone); otherwise a fixed ``nodeCount`` of ``NodePoolSpec.node_count``.

The default node pool is removed. Identities:

- nodes run as their own ``nodes`` service account holding only
  ``roles/container.defaultNodeServiceAccount`` (logs, metrics, image pulls for GKE itself);
- pods get the runner's identity through Workload Identity: the cluster has the workload pool
  ``<project>.svc.id.goog``, the pools serve the GKE metadata server, the runner's namespace and
  Kubernetes service account are created in the cluster (the account annotated
  ``iam.gke.io/gcp-service-account: <runner email>``), and that Kubernetes account may act as
  the runner (``roles/iam.workloadIdentityUser`` on the runner account, for that member only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowyml.infra.common import fixed_name, labels, to_gib
from flowyml.stacks.physical_names import scoped_name

if TYPE_CHECKING:
    import pulumi

DEFAULT_MACHINE_TYPE = "e2-standard-4"
DEFAULT_DISK_GB = 100
ROLE_NODE_SERVICE_ACCOUNT = "roles/container.defaultNodeServiceAccount"
ROLE_WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"


def workload_identity_member(project: str, namespace: str, service_account: str) -> str:
    """The IAM member of a Kubernetes service account under Workload Identity."""
    return f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]"


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
    spec: Any,
    *,
    name: str,
    stack_name: str,
    project: str,
    region: str,
    account: Any,
    workload: tuple[str, str],
    opts: pulumi.ResourceOptions,
) -> GKECluster:
    """Declare the GKE cluster, its node pools and the runner's Workload Identity.

    Args:
        spec: The ``GKEClusterSpec``.
        name: The cluster's physical name.
        stack_name: The flowyml stack name (scopes the node service account's id).
        project: GCP project id.
        region: Region of the (regional) cluster.
        account: The runtime ``serviceaccount.Account`` pods act as.
        workload: (namespace, Kubernetes service account) of the runner's pods.
        opts: Options carrying the dependency on the Kubernetes Engine and IAM APIs.
    """
    import pulumi

    from flowyml.infra._sdk import sdk

    container = sdk("pulumi_gcp.container", "cluster", "node_pool")
    projects = sdk("pulumi_gcp.projects", "iam_member")
    serviceaccount = sdk("pulumi_gcp.serviceaccount", "account", "iam_member")

    nodes = serviceaccount.Account(
        "nodes",
        account_id=scoped_name(stack_name, "nodes", limit=30),
        project=project,
        display_name=f"flowyml GKE nodes for stack {stack_name}",
        opts=pulumi.ResourceOptions.merge(opts, fixed_name()),
    )
    node_role = projects.IAMMember(
        "nodes-default-role",
        project=project,
        role=ROLE_NODE_SERVICE_ACCOUNT,
        member=nodes.email.apply(lambda email: f"serviceAccount:{email}"),
        opts=opts,
    )
    cluster = container.Cluster(
        "cluster",
        name=name,
        project=project,
        location=region,
        remove_default_node_pool=True,
        initial_node_count=1,
        deletion_protection=bool(getattr(spec, "deletion_protection", False)),
        release_channel=container.ClusterReleaseChannelArgs(channel="REGULAR"),
        workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{project}.svc.id.goog"
        ),
        node_config=container.ClusterNodeConfigArgs(service_account=nodes.email),
        opts=pulumi.ResourceOptions.merge(opts, fixed_name()),
    )
    for pool in spec.node_pools:
        config = node_config_args(pool.resources, nodes.email)
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
            opts=pulumi.ResourceOptions(depends_on=[node_role]),
        )

    namespace, ksa = workload
    serviceaccount.IAMMember(
        "runner-workload-identity",
        service_account_id=account.name,
        role=ROLE_WORKLOAD_IDENTITY_USER,
        member=workload_identity_member(project, namespace, ksa),
        # The member names the cluster's workload pool, which exists once the cluster does.
        opts=pulumi.ResourceOptions(depends_on=[cluster]),
    )
    endpoint = cluster.endpoint.apply(lambda host: f"https://{host}")
    kubeconfig = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
    ).apply(lambda v: gke_kubeconfig(name=v[0], endpoint=v[1], ca_certificate=v[2] or ""))
    gke = GKECluster(endpoint=endpoint, kubeconfig=pulumi.Output.secret(kubeconfig))

    from flowyml.infra.k8s_identity import declare_runner_account

    declare_runner_account(
        kubeconfig=gke.kubeconfig,
        namespace=namespace,
        service_account=ksa,
        annotations={WORKLOAD_IDENTITY_ANNOTATION: account.email},
        labels=labels(stack_name),
    )
    return gke


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
