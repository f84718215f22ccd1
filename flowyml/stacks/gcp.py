"""``GCPStack``: Vertex AI, GCS, Cloud SQL and Artifact Registry, with what to provision.

Provisioning specs default to the cheapest sensible choice (``db-f1-micro``, 10 GB SSD, zonal,
no cluster); the GCP infra program turns them into resources.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.base import Stack, derived_field
from flowyml.stacks.components import (
    ArtifactStore,
    CloudSQLMetadataStore,
    ContainerRegistry,
    Executor,
    GCRContainerRegistry,
    GCSArtifactStore,
    KubernetesExecutor,
    LocalExecutor,
    MetadataStore,
    Orchestrator,
    ResourceConfig,
    SQLiteMetadataStore,
    VertexAIExecutor,
    VertexAIOrchestrator,
)
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.physical_names import scoped_name

__all__ = [
    "ArtifactRegistrySpec",
    "CloudSQLSpec",
    "GCPStack",
    "GCSBucketSpec",
    "GKEClusterSpec",
    "NodePoolSpec",
]

SHARED_CORE_TIERS = ("db-f1-micro", "db-g1-small")
_CUSTOM_TIER = re.compile(r"db-custom-\d+-\d+")
_PERF_OPTIMIZED_TIER = re.compile(r"db-perf-optimized-N-\d+")
_PREDEFINED_MYSQL_TIER = re.compile(r"db-n[12]-(standard|highmem)-\d+")
ENTERPRISE = "ENTERPRISE"
ENTERPRISE_PLUS = "ENTERPRISE_PLUS"


def edition_for_tier(tier: str) -> str:
    """The Cloud SQL edition a tier belongs to.

    Shared-core (``db-f1-micro``, ``db-g1-small``) and custom (``db-custom-N-M``) tiers exist only
    in the Enterprise edition; ``db-perf-optimized-N-*`` only in Enterprise Plus. PostgreSQL 16+
    defaults to Enterprise Plus, where a shared-core tier fails with "Invalid Tier", so the
    edition is always set explicitly.
    """
    return ENTERPRISE_PLUS if _PERF_OPTIMIZED_TIER.fullmatch(tier) else ENTERPRISE


class GCSBucketSpec(Component):
    """The artifact bucket to create.

    Attributes:
        storage_class: ``STANDARD``, ``NEARLINE``, ``COLDLINE`` or ``ARCHIVE``.
        force_destroy: Delete the objects with the bucket on ``stack destroy``.
        location: Bucket location (``None``: the stack's region).
    """

    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = "STANDARD"
    force_destroy: bool = False
    location: str | None = None


class CloudSQLSpec(Component):
    """The Cloud SQL for PostgreSQL instance holding the metadata store.

    Attributes:
        tier: Machine tier, e.g. ``db-f1-micro`` or ``db-custom-2-7680`` (Enterprise), or
            ``db-perf-optimized-N-2`` (Enterprise Plus).
        edition: ``ENTERPRISE`` or ``ENTERPRISE_PLUS`` (``None``: the tier's edition).
        database_version: ``POSTGRES_<major>``.
        disk_size_gb: Disk size (10 GB minimum).
        disk_type: ``PD_SSD`` or ``PD_HDD``.
        availability_type: ``ZONAL`` or ``REGIONAL`` (high availability, about twice the price).
        deletion_protection: Refuse to delete the instance until turned off.
        instance_name: The instance's name (``None``: ``<stack>-metadata-<suffix>``, the suffix
            drawn at each ``stack up`` from nothing, since a deleted name stays taken for about
            a week). Declare it to keep an existing instance's name.
    """

    tier: str = "db-f1-micro"
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] | None = None
    database_version: str = Field(default="POSTGRES_15", pattern=r"^POSTGRES_\d+$")
    disk_size_gb: int = Field(default=10, ge=10, le=65536)
    disk_type: Literal["PD_SSD", "PD_HDD"] = "PD_SSD"
    availability_type: Literal["ZONAL", "REGIONAL"] = "ZONAL"
    deletion_protection: bool = True
    instance_name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,96}[a-z0-9]$")

    @property
    def effective_edition(self) -> str:
        """The declared edition, else the one the tier belongs to."""
        return self.edition or edition_for_tier(self.tier)

    def problems(self, path: str) -> list[ValidationProblem]:
        tier = self.tier
        if _PREDEFINED_MYSQL_TIER.fullmatch(tier):
            return problem(
                f"{path}.tier",
                f"{tier!r} is a predefined MySQL/SQL Server tier; Cloud SQL for PostgreSQL "
                "does not offer it",
                "use db-custom-<vcpus>-<memory MB> (e.g. db-custom-2-7680) or a shared-core tier",
            )
        known = (
            tier in SHARED_CORE_TIERS
            or _CUSTOM_TIER.fullmatch(tier)
            or _PERF_OPTIMIZED_TIER.fullmatch(tier)
        )
        if not known:
            return problem(
                f"{path}.tier",
                f"{tier!r} is not a Cloud SQL for PostgreSQL tier",
                "use db-f1-micro, db-g1-small, db-custom-<vcpus>-<memory MB> or "
                "db-perf-optimized-N-<vcpus> (Enterprise Plus)",
            )
        needed = edition_for_tier(tier)
        if self.edition is not None and self.edition != needed:
            return problem(
                f"{path}.edition",
                f"tier {tier!r} exists only in the {needed} edition, not {self.edition}",
                f"set edition: {needed}, or remove edition to take the tier's"
                if needed == ENTERPRISE
                else "use a db-perf-optimized-N-<vcpus> tier only with ENTERPRISE_PLUS",
            )
        return []


class ArtifactRegistrySpec(Component):
    """The Artifact Registry Docker repository to create.

    Attributes:
        repository_id: Repository id (lowercase letters, digits, hyphens; ``None``:
            ``flowyml-<stack>-<id>``, see :mod:`flowyml.stacks.physical_names`).
    """

    repository_id: str | None = None

    def problems(self, path: str) -> list[ValidationProblem]:
        if self.repository_id is None:
            return []
        return problem(
            f"{path}.repository_id",
            rules.check_artifact_registry_repository(self.repository_id),
        )


class NodePoolSpec(Component):
    """A GKE node pool.

    Attributes:
        name: Pool name.
        resources: Machine type, GPUs, preemptible, autoscaling bounds.
        node_count: Initial node count.
    """

    name: str = "default"
    resources: ResourceConfig = Field(
        default_factory=lambda: ResourceConfig(machine_type="e2-standard-2")
    )
    node_count: int = Field(default=1, ge=0)

    def problems(self, path: str) -> list[ValidationProblem]:
        found = problem(f"{path}.name", rules.check_dns_label(self.name, "node pool name"))
        return found + self.resources.problems(f"{path}.resources")


class GKEClusterSpec(Component):
    """A GKE cluster for Kubernetes execution.

    Attributes:
        name: Cluster name (at most 40 characters; ``None``: ``flowyml-<stack>-<id>``).
        node_pools: Node pools (one small pool by default).
    """

    name: str | None = None
    node_pools: list[NodePoolSpec] = Field(default_factory=lambda: [NodePoolSpec()], min_length=1)

    def problems(self, path: str) -> list[ValidationProblem]:
        found: list[ValidationProblem] = []
        if self.name is not None and not re.fullmatch(
            r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?", self.name
        ):
            found += problem(
                f"{path}.name",
                f"GKE cluster name {self.name!r} must be 1-40 lowercase letters, digits or "
                "hyphens, starting with a letter",
            )
        for i, pool in enumerate(self.node_pools):
            found += pool.problems(f"{path}.node_pools[{i}]")
        return found


class GCPStack(Stack):
    """A stack on Google Cloud.

    Derived components (each can be given explicitly instead): ``VertexAIExecutor`` and
    ``VertexAIOrchestrator`` when ``use_vertex`` (else a ``KubernetesExecutor`` with a cluster, or
    a ``LocalExecutor``), ``GCSArtifactStore(bucket_name)``, ``CloudSQLMetadataStore`` (SQLite
    when ``database`` is ``None``), ``GCRContainerRegistry(registry_uri or
    <region>-docker.pkg.dev/<project>/<repository_id>)``.

    Attributes:
        project_id: GCP project id.
        region: GCP region.
        bucket_name: Artifact bucket name.
        registry_uri: Existing registry (``None``: the Artifact Registry repository created).
        bucket: Bucket provisioning spec.
        database: Cloud SQL spec (``None``: no database, SQLite metadata).
        registry: Artifact Registry spec.
        service_account_id: Id of the runner service account to create (``None``:
            ``runner-<stack>-<id>``, unique per stack in the project).
        use_vertex: Run steps and pipelines on Vertex AI.
        cluster: GKE cluster spec (``None``: no cluster).
    """

    stack_type = "gcp"
    example = (
        'GCPStack(name="production", project_id="my-gcp-project", '
        'region="us-central1", bucket_name="my-artifacts")'
    )
    needs_provisioning = True

    project_id: str
    region: str = "us-central1"
    bucket_name: str
    registry_uri: str | None = None
    bucket: GCSBucketSpec = Field(default_factory=GCSBucketSpec)
    database: CloudSQLSpec | None = Field(default_factory=CloudSQLSpec)
    registry: ArtifactRegistrySpec = Field(default_factory=ArtifactRegistrySpec)
    service_account_id: str | None = None
    use_vertex: bool = True
    cluster: GKEClusterSpec | None = None
    executor: Executor = derived_field()
    artifact_store: ArtifactStore = derived_field()
    metadata_store: MetadataStore = derived_field()
    orchestrator: Orchestrator | None = None
    container_registry: ContainerRegistry | None = None

    @property
    def runner_account_id(self) -> str:
        """The runner service account id: declared, else scoped to this stack."""
        return self.service_account_id or scoped_name(self.name, "runner", limit=30)

    @property
    def repository_id(self) -> str:
        """The Artifact Registry repository id: declared, else scoped to this stack."""
        return self.registry.repository_id or scoped_name(self.name, "flowyml", limit=63)

    @property
    def cluster_name(self) -> str | None:
        """The GKE cluster name (``None`` without a cluster): declared, else scoped."""
        if self.cluster is None:
            return None
        return self.cluster.name or scoped_name(self.name, "flowyml", limit=40)

    @property
    def service_account_email(self) -> str:
        """``<runner_account_id>@<project_id>.iam.gserviceaccount.com``."""
        return f"{self.runner_account_id}@{self.project_id}.iam.gserviceaccount.com"

    @property
    def artifact_registry_uri(self) -> str:
        """``<region>-docker.pkg.dev/<project_id>/<repository_id>``."""
        return f"{self.region}-docker.pkg.dev/{self.project_id}/{self.repository_id}"

    def derived_components(self) -> dict[str, Any]:
        executor: Any
        if self.use_vertex:
            executor = VertexAIExecutor(
                project_id=self.project_id,
                region=self.region,
                service_account=self.service_account_email,
            )
        elif self.cluster is not None:
            executor = KubernetesExecutor(namespace="flowyml")
        else:
            executor = LocalExecutor()
        return {
            "executor": executor,
            "artifact_store": GCSArtifactStore(bucket=self.bucket_name),
            "metadata_store": CloudSQLMetadataStore()
            if self.database is not None
            else SQLiteMetadataStore(),
            "orchestrator": VertexAIOrchestrator(project_id=self.project_id, region=self.region)
            if self.use_vertex
            else None,
            "container_registry": GCRContainerRegistry(
                uri=self.registry_uri or self.artifact_registry_uri
            ),
        }

    def own_problems(self) -> list[ValidationProblem]:
        found = problem("project_id", rules.check_gcp_project_id(self.project_id))
        found += problem("region", rules.check_gcp_region(self.region))
        found += problem("bucket_name", rules.check_gcs_bucket(self.bucket_name))
        if self.registry_uri is not None:
            found += problem(
                "registry_uri",
                rules.check_gcr_registry_uri(self.registry_uri),
                "use gcr.io/<project> or <region>-docker.pkg.dev/<project>/<repository>",
            )
        found += self.registry.problems("registry")
        found += problem(
            "service_account_id", rules.check_gcp_service_account_id(self.runner_account_id)
        )
        if self.database is not None:
            found += self.database.problems("database")
        elif getattr(self.metadata_store, "password", None) is not None:
            found += problem(
                "metadata_store.password",
                "a password is declared but no Cloud SQL database is provisioned (database is "
                "null), so nothing would use it",
                "declare `database:` to provision one with that password, or remove the password",
            )
        if self.cluster is not None:
            found += self.cluster.problems("cluster")
        if self.bucket.location is not None and self.bucket.location.lower() not in {
            "us",
            "eu",
            "asia",
        }:
            found += problem(
                "bucket.location", rules.check_gcp_region(self.bucket.location.lower())
            )
        return found
