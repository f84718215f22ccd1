"""The optional EKS part of the AWS program: cluster, managed node groups, pod identity.

How a ``ResourceConfig`` becomes a managed node group:

- ``machine_type`` -> ``instanceTypes`` (``t3.medium`` when not declared); GPUs on AWS come
  with the instance type (``g5.xlarge``...), and such types get the NVIDIA AMI;
- ``disk_size`` -> ``diskSize`` (GiB, 20 when not declared);
- ``preemptible`` -> ``capacityType: SPOT`` (else ``ON_DEMAND``);
- ``autoscaling`` -> ``scalingConfig`` min/max from ``min_nodes`` / ``max_nodes``; otherwise
  min = max = desired = ``NodeGroupSpec.desired``.

The cluster runs in the stack's own VPC (:mod:`flowyml.infra.aws_network`: two public subnets
in zones ``a`` and ``b``, the database in two private ones), and gets the EKS Pod Identity agent, associating the Kubernetes service
account ``flowyml/flowyml-runner`` with the stack's execution role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowyml.infra.common import to_gib

if TYPE_CHECKING:
    import pulumi

    from flowyml.infra.aws_network import Network

DEFAULT_INSTANCE_TYPE = "t3.medium"
DEFAULT_DISK_GB = 20
GPU_INSTANCE_FAMILIES = ("p", "g")
RUNNER_NAMESPACE = "flowyml"
RUNNER_SERVICE_ACCOUNT = "flowyml-runner"

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


def node_group_args(resources: Any, desired: int) -> dict[str, Any]:
    """The ``eks.NodeGroup`` keyword arguments derived from a ``ResourceConfig`` (pure)."""
    instance_type = getattr(resources, "machine_type", None) or DEFAULT_INSTANCE_TYPE
    disk_bytes = getattr(resources, "disk_bytes", None)
    if getattr(resources, "autoscaling", False):
        low, high = int(resources.min_nodes), int(resources.max_nodes)
        scaling = {"min_size": low, "max_size": high, "desired_size": min(max(desired, low), high)}
    else:
        scaling = {"min_size": desired, "max_size": desired, "desired_size": desired}
    gpu = instance_type.split(".")[0].startswith(GPU_INSTANCE_FAMILIES)
    return {
        "instance_types": [instance_type],
        "capacity_type": "SPOT" if getattr(resources, "preemptible", False) else "ON_DEMAND",
        "disk_size": to_gib(disk_bytes() if callable(disk_bytes) else None, DEFAULT_DISK_GB),
        "ami_type": "AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD",
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
    spec: Any, *, network: Network, region: str, tags: dict[str, str], runner_role: Any
) -> EKSCluster:
    """Declare the EKS cluster, its node groups and the runner's pod identity.

    Args:
        spec: The ``EKSClusterSpec``.
        network: The stack's VPC (:func:`flowyml.infra.aws_network.declare_network`).
        region: AWS region (for the kubeconfig's ``aws eks get-token``).
        tags: Tags for every resource.
        runner_role: The execution ``iam.Role`` pods of the runner assume.
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
        name=spec.name,
        role_arn=cluster_role.arn,
        vpc_config=eks.ClusterVpcConfigArgs(subnet_ids=subnet_ids),
        access_config=eks.ClusterAccessConfigArgs(authentication_mode="API"),
        tags=tags,
        opts=pulumi.ResourceOptions(depends_on=attachments),
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

    agent = eks.Addon(
        "pod-identity-agent", cluster_name=cluster.name, addon_name="eks-pod-identity-agent"
    )
    eks.PodIdentityAssociation(
        "runner-pod-identity",
        cluster_name=cluster.name,
        namespace=RUNNER_NAMESPACE,
        service_account=RUNNER_SERVICE_ACCOUNT,
        role_arn=runner_role.arn,
        opts=pulumi.ResourceOptions(depends_on=[agent]),
    )

    kubeconfig = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority.data
    ).apply(lambda v: eks_kubeconfig(name=v[0], endpoint=v[1], ca_data=v[2] or "", region=region))
    return EKSCluster(
        endpoint=cluster.endpoint,
        kubeconfig=pulumi.Output.secret(kubeconfig),
        security_group_id=cluster.vpc_config.cluster_security_group_id,
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
