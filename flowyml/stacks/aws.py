"""``AWSStack``: S3, PostgreSQL on RDS and ECR, with what to provision.

Provisioning specs default to the cheapest sensible choice (``db.t3.micro``, 20 GB gp3,
single-AZ, no cluster); the AWS infra program turns them into resources.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.base import Stack, derived_field
from flowyml.stacks.components import (
    ArtifactStore,
    ContainerRegistry,
    ECRContainerRegistry,
    Executor,
    KubernetesExecutor,
    LocalExecutor,
    MetadataStore,
    PostgreSQLMetadataStore,
    ResourceConfig,
    S3ArtifactStore,
    SQLiteMetadataStore,
)
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.physical_names import scoped_name

__all__ = ["AWSStack", "ECRSpec", "EKSClusterSpec", "NodeGroupSpec", "RDSSpec", "S3BucketSpec"]


class S3BucketSpec(Component):
    """The artifact bucket to create.

    Attributes:
        versioning: Keep object versions.
        force_destroy: Delete the objects with the bucket on ``stack destroy``.
    """

    versioning: bool = True
    force_destroy: bool = False


class RDSSpec(Component):
    """The RDS for PostgreSQL instance holding the metadata store.

    Attributes:
        instance_class: e.g. ``db.t3.micro``.
        engine_version: PostgreSQL major (or major.minor) version.
        allocated_storage: Storage in GB (20 minimum).
        storage_type: ``gp2``, ``gp3``, ``io1``, ``io2`` or ``standard``.
        multi_az: Standby in a second zone (about twice the price).
        deletion_protection: Refuse to delete the instance until turned off.
    """

    instance_class: str = "db.t3.micro"
    engine_version: str = Field(default="15", pattern=r"^\d+(\.\d+)?$")
    allocated_storage: int = Field(default=20, ge=20, le=65536)
    storage_type: Literal["gp2", "gp3", "io1", "io2", "standard"] = "gp3"
    multi_az: bool = False
    deletion_protection: bool = True

    def problems(self, path: str) -> list[ValidationProblem]:
        if not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", self.instance_class):
            return problem(
                f"{path}.instance_class",
                f"{self.instance_class!r} is not an RDS instance class",
                "use e.g. db.t3.micro or db.m5.large",
            )
        return []


class ECRSpec(Component):
    """The ECR repository to create.

    Attributes:
        repository: Repository name (``None``: ``flowyml-<stack>-<id>``).
        force_delete: Delete the images with the repository on ``stack destroy``.
    """

    repository: str | None = None
    force_delete: bool = False

    def problems(self, path: str) -> list[ValidationProblem]:
        if self.repository is None:
            return []
        return problem(f"{path}.repository", rules.check_ecr_repository(self.repository))


class NodeGroupSpec(Component):
    """An EKS managed node group.

    Attributes:
        name: Group name.
        resources: Instance type, GPUs, spot, autoscaling bounds.
        desired: Desired node count.
    """

    name: str = "default"
    resources: ResourceConfig = Field(
        default_factory=lambda: ResourceConfig(machine_type="t3.medium")
    )
    desired: int = Field(default=1, ge=0)

    def problems(self, path: str) -> list[ValidationProblem]:
        found: list[ValidationProblem] = []
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", self.name):
            found += problem(f"{path}.name", f"node group name {self.name!r} is not valid")
        return found + self.resources.problems(f"{path}.resources")


class EKSClusterSpec(Component):
    """An EKS cluster for Kubernetes execution.

    Attributes:
        name: Cluster name (``None``: ``flowyml-<stack>-<id>``).
        node_groups: Node groups (one small group by default).
    """

    name: str | None = None
    node_groups: list[NodeGroupSpec] = Field(
        default_factory=lambda: [NodeGroupSpec()], min_length=1
    )

    def problems(self, path: str) -> list[ValidationProblem]:
        found: list[ValidationProblem] = []
        if self.name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", self.name):
            found += problem(
                f"{path}.name",
                f"EKS cluster name {self.name!r} must be 1-100 letters, digits, '-' or '_', "
                "starting with a letter or digit",
            )
        for i, group in enumerate(self.node_groups):
            found += group.problems(f"{path}.node_groups[{i}]")
        return found


class AWSStack(Stack):
    """A stack on AWS.

    Derived components (each can be given explicitly instead): ``S3ArtifactStore(s3_bucket)``,
    ``PostgreSQLMetadataStore(provisioned_by="rds")`` (SQLite when ``database`` is ``None``),
    ``ECRContainerRegistry(ecr_registry)`` when given (else the registry URI comes from the
    outputs), a ``KubernetesExecutor`` with a cluster, else a ``LocalExecutor``.

    Attributes:
        region: AWS region.
        s3_bucket: Artifact bucket name.
        ecr_registry: Existing ECR registry URI (``None``: the repository created). When given,
            no repository is created and the runner is granted pull/push on that one.
        bucket: Bucket provisioning spec.
        database: RDS spec (``None``: no database, SQLite metadata).
        ecr: ECR repository spec.
        role_name: IAM role of the runner (``None``: ``flowyml-runner-<stack>-<id>``).
        cluster: EKS cluster spec (``None``: no cluster).
    """

    stack_type = "aws"
    example = 'AWSStack(name="aws-prod", region="us-east-1", s3_bucket="my-artifacts")'
    needs_provisioning = True

    region: str = "us-east-1"
    s3_bucket: str
    ecr_registry: str | None = None
    bucket: S3BucketSpec = Field(default_factory=S3BucketSpec)
    database: RDSSpec | None = Field(default_factory=RDSSpec)
    ecr: ECRSpec = Field(default_factory=ECRSpec)
    role_name: str | None = None
    cluster: EKSClusterSpec | None = None
    executor: Executor = derived_field()
    artifact_store: ArtifactStore = derived_field()
    metadata_store: MetadataStore = derived_field()
    container_registry: ContainerRegistry | None = None

    @property
    def runner_role_name(self) -> str:
        """The runner's IAM role name: declared, else scoped to this stack."""
        return self.role_name or scoped_name(self.name, "flowyml-runner", limit=64)

    @property
    def repository_name(self) -> str:
        """The ECR repository to create: declared, else scoped to this stack."""
        return self.ecr.repository or scoped_name(self.name, "flowyml", limit=256)

    @property
    def cluster_name(self) -> str | None:
        """The EKS cluster name (``None`` without a cluster): declared, else scoped."""
        if self.cluster is None:
            return None
        return self.cluster.name or scoped_name(self.name, "flowyml", limit=100)

    def derived_components(self) -> dict[str, Any]:
        return {
            "executor": KubernetesExecutor(namespace="flowyml")
            if self.cluster is not None
            else LocalExecutor(),
            "artifact_store": S3ArtifactStore(bucket=self.s3_bucket, region=self.region),
            "metadata_store": PostgreSQLMetadataStore(
                provisioned_by="rds", database="flowyml", user="flowyml"
            )
            if self.database is not None
            else SQLiteMetadataStore(),
            "container_registry": ECRContainerRegistry(uri=self.ecr_registry)
            if self.ecr_registry
            else None,
        }

    def own_problems(self) -> list[ValidationProblem]:
        found = problem("region", rules.check_aws_region(self.region))
        found += problem("s3_bucket", rules.check_s3_bucket(self.s3_bucket))
        if self.ecr_registry is not None:
            found += problem(
                "ecr_registry",
                rules.check_ecr_registry_uri(self.ecr_registry),
                f"{rules.ecr_registry_hint(self.ecr_registry)}; or leave ecr_registry unset to "
                "use the ECR repository `flowyml stack up` creates",
            )
        found += self.ecr.problems("ecr")
        if not re.fullmatch(r"[\w+=,.@-]{1,64}", self.runner_role_name):
            found += problem(
                "role_name",
                f"IAM role name {self.runner_role_name!r} must be 1-64 letters, digits or +=,.@_-",
            )
        if self.database is not None:
            found += self.database.problems("database")
        if self.cluster is not None:
            found += self.cluster.problems("cluster")
        return found
