"""The network of an AWS stack with a cluster: one VPC holding the EKS nodes and the RDS database.

With a cluster, the stack gets its own VPC (``10.0.0.0/16``, so no lookup of existing networks):

- ``cluster-subnet-a`` / ``-b``: public subnets (internet gateway route) for the EKS nodes, in the
  region's first two available zones (asked of the account: not every region has ``a``/``b``);
- ``database-subnet-a`` / ``-b``: private subnets (no internet route: the VPC's main route table
  only knows the VPC itself) holding the ``metadata-subnets`` DB subnet group;
- ``metadata-access``: the database's security group, allowing PostgreSQL (5432/tcp) only from
  the EKS cluster security group (the one EKS managed node groups, and so the runner's pods,
  carry), and nothing else in or out.

Without a cluster there is no VPC here: the RDS instance goes into the account's default VPC,
not publicly accessible, with the default VPC's default security group (members of that group
only). The runner then reaches it from inside that VPC (see docs/provisioning.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulumi

VPC_CIDR = "10.0.0.0/16"
ZONES = ("a", "b")
"""Logical names of the two subnets of each kind (not zone names: those come from the region)."""
PUBLIC_CIDRS = ("10.0.0.0/20", "10.0.16.0/20")
DATABASE_CIDRS = ("10.0.32.0/20", "10.0.48.0/20")
POSTGRES_PORT = 5432


@dataclass(frozen=True)
class Network:
    """The VPC of a stack with a cluster.

    Attributes:
        vpc_id: The VPC.
        public_subnet_ids: Subnets of the EKS cluster and nodes (one per zone).
        database_subnet_ids: Private subnets of the database (one per zone, no internet route).
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    database_subnet_ids: list[pulumi.Output[str]]


@dataclass(frozen=True)
class DatabaseNetwork:
    """Where the RDS instance goes: its DB subnet group and its security groups."""

    subnet_group_name: pulumi.Output[str]
    security_group_ids: list[pulumi.Output[str]]


def declare_network(*, region: str, tags: dict[str, str]) -> Network:
    """Declare the VPC, its internet gateway, the public and the private (database) subnets.

    Args:
        region: AWS region (subnets go in its first two available zones).
        tags: Tags for every resource.
    """
    import pulumi_aws
    import pulumi_aws.ec2 as ec2

    zones = pulumi_aws.get_availability_zones_output(state="available", region=region).names
    vpc = ec2.Vpc(
        "cluster-vpc",
        cidr_block=VPC_CIDR,
        enable_dns_hostnames=True,
        enable_dns_support=True,
        tags=tags,
    )
    gateway = ec2.InternetGateway("cluster-gateway", vpc_id=vpc.id, tags=tags)
    routes = ec2.RouteTable(
        "cluster-routes",
        vpc_id=vpc.id,
        routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
        tags=tags,
    )
    public, private = [], []
    for index, (zone, public_cidr, database_cidr) in enumerate(
        zip(ZONES, PUBLIC_CIDRS, DATABASE_CIDRS, strict=True)
    ):
        availability_zone = zones.apply(functools.partial(_zone, index=index, region=region))
        subnet = ec2.Subnet(
            f"cluster-subnet-{zone}",
            vpc_id=vpc.id,
            cidr_block=public_cidr,
            availability_zone=availability_zone,
            map_public_ip_on_launch=True,
            tags={**tags, "kubernetes.io/role/elb": "1"},
        )
        ec2.RouteTableAssociation(
            f"cluster-subnet-{zone}-routes", subnet_id=subnet.id, route_table_id=routes.id
        )
        public.append(subnet.id)
        # No association: the main route table routes inside the VPC only.
        database = ec2.Subnet(
            f"database-subnet-{zone}",
            vpc_id=vpc.id,
            cidr_block=database_cidr,
            availability_zone=availability_zone,
            map_public_ip_on_launch=False,
            tags=tags,
        )
        private.append(database.id)
    return Network(vpc_id=vpc.id, public_subnet_ids=public, database_subnet_ids=private)


def declare_database_network(
    network: Network, *, client_security_group_id: Any, tags: dict[str, str]
) -> DatabaseNetwork:
    """The DB subnet group and a security group letting only the cluster reach PostgreSQL.

    Args:
        network: The stack's VPC.
        client_security_group_id: The EKS cluster security group (nodes and pods carry it).
        tags: Tags for every resource.
    """
    import pulumi_aws.ec2 as ec2
    import pulumi_aws.rds as rds

    group = rds.SubnetGroup(
        "metadata-subnets",
        subnet_ids=network.database_subnet_ids,
        description="flowyml metadata database: private subnets of the cluster VPC",
        tags=tags,
    )
    access = ec2.SecurityGroup(
        "metadata-access",
        vpc_id=network.vpc_id,
        description="PostgreSQL from the flowyml EKS cluster only",
        ingress=[
            ec2.SecurityGroupIngressArgs(
                description="PostgreSQL from the EKS cluster security group",
                protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                security_groups=[client_security_group_id],
            )
        ],
        egress=[],
        tags=tags,
    )
    return DatabaseNetwork(subnet_group_name=group.name, security_group_ids=[access.id])


def _zone(names: list[str] | None, *, index: int, region: str) -> str:
    names = sorted(names or [])
    if len(names) <= index:
        raise ValueError(
            f"region {region} reports {len(names)} available zone(s); the cluster network needs two"
        )
    return names[index]
