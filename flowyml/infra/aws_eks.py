"""The optional EKS part of the AWS program: cluster, managed node groups, pod identity.

How a ``ResourceConfig`` becomes a managed node group:

- ``machine_type`` -> ``instanceTypes`` (``t3.medium`` when not declared); GPUs on AWS come
  with the instance type (``g5.xlarge``...), and such types get the NVIDIA AMI; Graviton types
  (``t4g``, ``m7g``, ``c7gn``, ``g5g``...: a ``g`` after the generation digit) get the ARM64 AMI,
  since EKS rejects an x86_64 AMI type for them;
- ``disk_size`` -> ``diskSize`` (GiB, 20 when not declared);
- ``preemptible`` -> ``capacityType: SPOT`` (else ``ON_DEMAND``);
- ``autoscaling`` -> ``scalingConfig`` min/max from ``min_nodes`` / ``max_nodes``; otherwise
  min = max = desired = ``NodeGroupSpec.desired``.

The cluster runs in the stack's own VPC (:mod:`flowyml.infra.aws_network`: two public subnets
in the region's first two available zones, the database in two private ones). The runner's pods
get the stack's execution role two ways, so either works on the cluster: IRSA (an IAM OIDC
provider for the cluster's issuer, the role trusting exactly ``system:serviceaccount:<ns>:<ksa>``,
the Kubernetes service account created annotated ``eks.amazonaws.com/role-arn``) and EKS Pod
Identity (agent add-on and an association for the same account).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowyml.infra.common import to_gib

if TYPE_CHECKING:
    import pulumi

    from flowyml.infra.aws_network import Network

DEFAULT_INSTANCE_TYPE = "t3.medium"
DEFAULT_DISK_GB = 20
GPU_INSTANCE_FAMILIES = ("p", "g")
GRAVITON_FAMILY = re.compile(r"[a-z]+\d+g[a-z]*")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"

_AWS_POLICY = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)
"""AWS-managed policies EKS requires for its own control plane and nodes (not the runner)."""


@dataclass(frozen=True)
class EKSCluster:
    """What the rest of the program needs from the cluster."""

    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The cluster security group EKS creates; managed node groups (and pods) carry it."""
    name: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL (``https://oidc.eks.<region>.amazonaws.com/id/<ID>``)."""
    oidc_provider_arn: pulumi.Output[str]
    """The IAM OIDC provider for that issuer (what IRSA trust policies name)."""


def ami_type(instance_type: str) -> str:
    """The EKS AMI type for an instance type: ARM64 for Graviton, NVIDIA for GPU families."""
    family = instance_type.split(".")[0]
    gpu = family.startswith(GPU_INSTANCE_FAMILIES)
    if GRAVITON_FAMILY.fullmatch(family):
        return "AL2023_ARM_64_NVIDIA" if gpu else "AL2023_ARM_64_STANDARD"
    return "AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD"


def node_group_args(resources: Any, desired: int) -> dict[str, Any]:
    """The ``eks.NodeGroup`` keyword arguments derived from a ``ResourceConfig`` (pure)."""
    instance_type = getattr(resources, "machine_type", None) or DEFAULT_INSTANCE_TYPE
    disk_bytes = getattr(resources, "disk_bytes", None)
    if getattr(resources, "autoscaling", False):
        low, high = int(resources.min_nodes), int(resources.max_nodes)
        scaling = {"min_size": low, "max_size": high, "desired_size": min(max(desired, low), high)}
    else:
        scaling = {"min_size": desired, "max_size": desired, "desired_size": desired}
    return {
        "instance_types": [instance_type],
        "capacity_type": "SPOT" if getattr(resources, "preemptible", False) else "ON_DEMAND",
        "disk_size": to_gib(disk_bytes() if callable(disk_bytes) else None, DEFAULT_DISK_GB),
        "ami_type": ami_type(instance_type),
        "scaling_config": scaling,
    }


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def declare_cluster(
    spec: Any, *, name: str, network: Network, region: str, tags: dict[str, str]
) -> EKSCluster:
    """Declare the EKS cluster, its node groups and the IAM OIDC provider of its issuer.

    Args:
        spec: The ``EKSClusterSpec``.
        name: The cluster's physical name.
        network: The stack's VPC (:func:`flowyml.infra.aws_network.declare_network`).
        region: AWS region (for the kubeconfig's ``aws eks get-token``).
        tags: Tags for every resource.
    """
    import pulumi
    import pulumi_aws.eks as eks
    import pulumi_aws.iam as iam

    subnet_ids = network.public_subnet_ids

    cluster_role = iam.Role(
        "cluster-role", assume_role_policy=_trust("eks.amazonaws.com"), tags=tags
    )
    attachments = [
        iam.RolePolicyAttachment(
            f"cluster-role-{policy}", role=cluster_role.name, policy_arn=_AWS_POLICY + policy
        )
        for policy in CLUSTER_POLICIES
    ]
    cluster = eks.Cluster(
        "cluster",
        name=name,
        role_arn=cluster_role.arn,
        vpc_config=eks.ClusterVpcConfigArgs(subnet_ids=subnet_ids),
        access_config=eks.ClusterAccessConfigArgs(authentication_mode="API"),
        tags=tags,
        opts=pulumi.ResourceOptions(depends_on=attachments, delete_before_replace=True),
    )

    node_role = iam.Role("node-role", assume_role_policy=_trust("ec2.amazonaws.com"), tags=tags)
    node_attachments = [
        iam.RolePolicyAttachment(
            f"node-role-{policy}", role=node_role.name, policy_arn=_AWS_POLICY + policy
        )
        for policy in NODE_POLICIES
    ]
    for group in spec.node_groups:
        args = node_group_args(group.resources, int(group.desired))
        eks.NodeGroup(
            f"nodes-{group.name}",
            cluster_name=cluster.name,
            node_group_name=group.name,
            node_role_arn=node_role.arn,
            subnet_ids=subnet_ids,
            instance_types=args["instance_types"],
            capacity_type=args["capacity_type"],
            disk_size=args["disk_size"],
            ami_type=args["ami_type"],
            scaling_config=eks.NodeGroupScalingConfigArgs(**args["scaling_config"]),
            tags=tags,
            opts=pulumi.ResourceOptions(depends_on=node_attachments),
        )

    issuer = cluster.identities.apply(_oidc_issuer)
    provider = iam.OpenIdConnectProvider(
        "cluster-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], tags=tags
    )
    kubeconfig = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority.data
    ).apply(lambda v: eks_kubeconfig(name=v[0], endpoint=v[1], ca_data=v[2] or "", region=region))
    return EKSCluster(
        endpoint=cluster.endpoint,
        kubeconfig=pulumi.Output.secret(kubeconfig),
        security_group_id=cluster.vpc_config.cluster_security_group_id,
        name=cluster.name,
        oidc_issuer=issuer,
        oidc_provider_arn=provider.arn,
    )


def _oidc_issuer(identities: Any) -> str:
    for identity in identities or []:
        oidcs = identity.get("oidcs") if isinstance(identity, dict) else identity.oidcs
        for oidc in oidcs or []:
            issuer = oidc.get("issuer") if isinstance(oidc, dict) else oidc.issuer
            if issuer:
                return str(issuer)
    return ""


def bind_runner(
    cluster: EKSCluster, role: Any, *, namespace: str, service_account: str, tags: dict[str, str]
) -> None:
    """Give the runner's Kubernetes service account the execution role (IRSA and Pod Identity).

    Args:
        cluster: The declared cluster.
        role: The execution ``iam.Role`` (its trust policy names this service account).
        namespace: The runner's namespace (created in the cluster).
        service_account: The runner's Kubernetes service account (created, annotated).
        tags: Tags for every resource.
    """
    import pulumi
    import pulumi_aws.eks as eks

    from flowyml.infra.k8s_identity import declare_runner_account

    agent = eks.Addon(
        "pod-identity-agent", cluster_name=cluster.name, addon_name="eks-pod-identity-agent"
    )
    eks.PodIdentityAssociation(
        "runner-pod-identity",
        cluster_name=cluster.name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        opts=pulumi.ResourceOptions(depends_on=[agent]),
    )
    declare_runner_account(
        kubeconfig=cluster.kubeconfig,
        namespace=namespace,
        service_account=service_account,
        annotations={IRSA_ANNOTATION: role.arn},
        labels=tags,
    )


def eks_kubeconfig(*, name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig authenticating through ``aws eks get-token`` (no key in the file)."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {name}\n  cluster:\n    server: {endpoint}\n"
        f"    certificate-authority-data: {ca_data}\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
        f"current-context: {name}\n"
        f"users:\n- name: {name}\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: aws\n"
        f"      args: [eks, get-token, --cluster-name, {name}, --region, {region}]\n"
    )
