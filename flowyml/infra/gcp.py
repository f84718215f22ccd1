"""The GCP program: a :class:`~flowyml.stacks.gcp.GCPStack` declaration -> Pulumi resources.

Resources (logical names are stable addresses; physical names come from the declaration):

- ``api-<service>``: ``gcp:projects/service:Service`` for each API the stack needs; every
  other resource depends on the APIs it calls.
- ``artifacts``: the GCS bucket, uniform bucket-level access, public access prevention
  enforced, ``force_destroy`` only when ``bucket.force_destroy`` is declared.
- ``metadata-password`` / ``metadata`` / ``metadata-db`` / ``metadata-user`` (when
  ``database`` is declared): a ``random`` password kept secret, a Cloud SQL for PostgreSQL
  instance (deletion protection on unless declared off, no authorized networks: clients come
  through the Cloud SQL connector / Auth Proxy), its database and its user.
- ``registry``: an Artifact Registry Docker repository (unless ``registry_uri`` names an
  existing registry, which is then used as is).
- ``runner``: the runtime service account, with least privilege: object admin on *that*
  bucket, writer on *that* repository, Cloud SQL client and (when Vertex AI is used) Vertex AI
  user on the project. No project-wide admin, editor or owner role is ever granted.
- ``cluster`` and ``pool-<name>`` (when ``cluster`` is declared): see :mod:`flowyml.infra.gcp_gke`.

Exports (keys of :mod:`flowyml.core.outputs`): ``artifact_uri`` (``gs://bucket[/prefix]``),
``metadata_url`` (secret: ``postgresql+psycopg://user:pass@/db?host=/cloudsql/<connection
name>``, the Unix-socket form served by the Cloud SQL Auth Proxy, or by the Cloud SQL volume
of Cloud Run / GKE sidecars), ``registry_uri`` (``<region>-docker.pkg.dev/<project>/<repo>``),
``service_account`` (email), ``executor`` (``vertex`` or ``kubernetes``), ``region``,
``project_id``, and with a cluster ``cluster_endpoint`` and ``kubeconfig`` (secret).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowyml.core import outputs as keys
from flowyml.infra.common import (
    SECRET_OUTPUTS,
    component_kind,
    declared_password,
    executor_kind,
    export_outputs,
    fixed_name,
    labels,
    metadata_names,
    postgres_url,
    resource_prefix,
    runner_workload,
)

if TYPE_CHECKING:
    import pulumi

# Service names of the Google APIs a stack may need, by the feature that needs them.
API_STORAGE = "storage.googleapis.com"
API_SQLADMIN = "sqladmin.googleapis.com"
API_ARTIFACTREGISTRY = "artifactregistry.googleapis.com"
API_IAM = "iam.googleapis.com"
API_RESOURCEMANAGER = "cloudresourcemanager.googleapis.com"
API_AIPLATFORM = "aiplatform.googleapis.com"
API_CONTAINER = "container.googleapis.com"

# Roles granted to the runtime service account. Bucket and repository roles are bound on the
# resource itself; only these two are bound at project level (neither allows administration).
ROLE_OBJECT_ADMIN = "roles/storage.objectAdmin"
ROLE_REGISTRY_WRITER = "roles/artifactregistry.writer"
ROLE_CLOUDSQL_CLIENT = "roles/cloudsql.client"
ROLE_VERTEX_USER = "roles/aiplatform.user"


def required_apis(stack: Any) -> list[str]:
    """The Google APIs ``stack`` needs enabled, in a stable order."""
    apis = [API_STORAGE, API_IAM, API_RESOURCEMANAGER]
    if getattr(stack, "database", None) is not None:
        apis.append(API_SQLADMIN)
    if _creates_registry(stack):
        apis.append(API_ARTIFACTREGISTRY)
    if uses_vertex(stack):
        apis.append(API_AIPLATFORM)
    if getattr(stack, "cluster", None) is not None:
        apis.append(API_CONTAINER)
    return apis


def uses_vertex(stack: Any) -> bool:
    """Whether the stack runs anything on Vertex AI (flag, executor or orchestrator)."""
    executor = component_kind(getattr(stack, "executor", None))
    orchestrator = component_kind(getattr(stack, "orchestrator", None))
    return bool(getattr(stack, "use_vertex", False)) or "vertex" in executor + orchestrator


def _creates_registry(stack: Any) -> bool:
    return not getattr(stack, "registry_uri", None) and getattr(stack, "registry", None) is not None


def program(stack: Any) -> Callable[[], None]:
    """The Pulumi program for a GCP stack.

    Args:
        stack: A ``GCPStack`` declaration (already checked by ``check_supported``).

    Returns:
        A zero-argument function declaring the resources and exports when run by a Pulumi engine
        (real or mocked).
    """

    def run() -> None:
        _declare(stack)

    return run


def _declare(stack: Any) -> None:
    import pulumi

    from flowyml.infra._sdk import sdk

    projects = sdk("pulumi_gcp.projects", "service", "iam_member")
    serviceaccount = sdk("pulumi_gcp.serviceaccount", "account")
    storage = sdk("pulumi_gcp.storage", "bucket", "bucket_iam_member")

    project: str = stack.project_id
    region: str = stack.region
    prefix = resource_prefix(stack.name)
    tags = labels(stack.name)

    apis = {
        api: projects.Service(
            f"api-{api.split('.')[0]}",
            project=project,
            service=api,
            disable_on_destroy=False,
            disable_dependent_services=False,
        )
        for api in required_apis(stack)
    }

    def needs(*names: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(depends_on=[apis[n] for n in names if n in apis])

    spec = stack.bucket
    bucket = storage.Bucket(
        "artifacts",
        name=stack.bucket_name,
        project=project,
        location=(spec.location or region).upper(),
        storage_class=spec.storage_class,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        force_destroy=bool(spec.force_destroy),
        labels=tags,
        opts=pulumi.ResourceOptions.merge(needs(API_STORAGE), fixed_name()),
    )

    account = serviceaccount.Account(
        "runner",
        account_id=stack.runner_account_id,
        project=project,
        display_name=f"flowyml runner for stack {stack.name}",
        opts=pulumi.ResourceOptions.merge(needs(API_IAM), fixed_name()),
    )
    member = account.email.apply(lambda email: f"serviceAccount:{email}")

    storage.BucketIAMMember(
        "runner-bucket-objects", bucket=bucket.name, role=ROLE_OBJECT_ADMIN, member=member
    )

    registry_uri: Any = getattr(stack, "registry_uri", None)
    if _creates_registry(stack):
        registry_uri = _registry(stack, project, region, member, tags, needs(API_ARTIFACTREGISTRY))

    metadata_url = None
    if stack.database is not None:
        metadata_url = _database(stack, project, region, prefix, tags, needs(API_SQLADMIN))
        projects.IAMMember(
            "runner-cloudsql-client",
            project=project,
            role=ROLE_CLOUDSQL_CLIENT,
            member=member,
            opts=needs(API_RESOURCEMANAGER),
        )

    if uses_vertex(stack):
        projects.IAMMember(
            "runner-vertex-user",
            project=project,
            role=ROLE_VERTEX_USER,
            member=member,
            opts=needs(API_RESOURCEMANAGER, API_AIPLATFORM),
        )

    cluster_endpoint = kubeconfig = namespace = ksa = None
    if stack.cluster is not None:
        from flowyml.infra.gcp_gke import declare_cluster

        namespace, ksa = runner_workload(stack)
        gke = declare_cluster(
            stack.cluster,
            name=stack.cluster_name,
            stack_name=stack.name,
            project=project,
            region=region,
            account=account,
            workload=(namespace, ksa),
            opts=needs(API_CONTAINER, API_RESOURCEMANAGER, API_IAM),
        )
        cluster_endpoint, kubeconfig = gke.endpoint, gke.kubeconfig

    declared = component_kind(getattr(stack, "executor", None)) or "local"
    fallback = "kubernetes" if stack.cluster is not None else declared
    executor = executor_kind(stack, default="vertex" if uses_vertex(stack) else fallback)

    prefix_path = str(getattr(getattr(stack, "artifact_store", None), "prefix", "") or "")
    artifact_uri = bucket.name.apply(
        lambda name: f"gs://{name}/{prefix_path.strip('/')}".rstrip("/")
    )
    export_outputs(
        {
            keys.ARTIFACT_URI: artifact_uri,
            keys.METADATA_URL: metadata_url,
            keys.REGISTRY_URI: registry_uri,
            keys.SERVICE_ACCOUNT: account.email,
            keys.EXECUTOR: executor,
            keys.EXECUTOR_ENDPOINT: vertex_endpoint(region)
            if executor == "vertex"
            else cluster_endpoint
            if executor == "kubernetes"
            else None,
            keys.CLUSTER_ENDPOINT: cluster_endpoint,
            keys.KUBECONFIG: kubeconfig,
            keys.NAMESPACE: namespace,
            keys.KUBERNETES_SERVICE_ACCOUNT: ksa,
            keys.REGION: region,
            keys.PROJECT_ID: project,
        },
        secrets=SECRET_OUTPUTS,
    )


def vertex_endpoint(region: str) -> str:
    """The regional Vertex AI API endpoint jobs are submitted to."""
    return f"https://{region}-aiplatform.googleapis.com"


def _registry(
    stack: Any,
    project: str,
    region: str,
    member: pulumi.Output[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    import pulumi

    from flowyml.infra._sdk import sdk

    artifactregistry = sdk("pulumi_gcp.artifactregistry", "repository", "repository_iam_member")

    repo = artifactregistry.Repository(
        "registry",
        repository_id=stack.repository_id,
        project=project,
        location=region,
        format="DOCKER",
        description=f"flowyml images for stack {stack.name}",
        labels=tags,
        opts=pulumi.ResourceOptions.merge(opts, fixed_name()),
    )
    artifactregistry.RepositoryIamMember(
        "runner-registry-writer",
        project=repo.project,
        location=repo.location,
        repository=repo.name,
        role=ROLE_REGISTRY_WRITER,
        member=member,
    )
    return repo.repository_id.apply(lambda rid: f"{region}-docker.pkg.dev/{project}/{rid}")


def _database(
    stack: Any,
    project: str,
    region: str,
    prefix: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    import pulumi

    from flowyml.infra._sdk import sdk

    sql = sdk("pulumi_gcp.sql", "database_instance", "database", "user")
    import pulumi_random as random

    spec = stack.database
    db_name, user_name = metadata_names(stack)
    declared = declared_password(stack)
    if declared is not None:
        password: Any = pulumi.Output.secret(declared)
    else:
        password = random.RandomPassword(
            "metadata-password", length=32, special=True, override_special="-_"
        ).result
    # A deleted Cloud SQL instance name stays taken for about a week: a suffix drawn once per
    # `stack up` (kept in state) lets destroy + up create a new instance at once.
    name: Any = spec.instance_name
    if name is None:
        # Keepers: what replaces the instance (project, region) draws a new suffix too, so the
        # recreated instance never asks for the name its predecessor still holds.
        suffix = random.RandomId(
            "metadata-suffix", byte_length=2, keepers={"project": project, "region": region}
        )
        name = suffix.hex.apply(lambda h: f"{prefix}-metadata-{h}")
    instance = sql.DatabaseInstance(
        "metadata",
        name=name,
        project=project,
        region=region,
        database_version=spec.database_version,
        deletion_protection=bool(spec.deletion_protection),
        settings=sql.DatabaseInstanceSettingsArgs(
            tier=spec.tier,
            edition=spec.effective_edition,
            disk_size=spec.disk_size_gb,
            disk_type=spec.disk_type,
            availability_type=spec.availability_type,
            deletion_protection_enabled=bool(spec.deletion_protection),
            backup_configuration=sql.DatabaseInstanceSettingsBackupConfigurationArgs(enabled=True),
            ip_configuration=sql.DatabaseInstanceSettingsIpConfigurationArgs(
                ipv4_enabled=True, ssl_mode="ENCRYPTED_ONLY"
            ),
            user_labels=tags,
        ),
        opts=pulumi.ResourceOptions.merge(opts, fixed_name()),
    )
    # ABANDON: the database and the user go with the instance when it is deleted. Deleting
    # them first would drop the metadata before the instance (then refuse halfway: a
    # PostgreSQL user owning the tables cannot be dropped).
    database = sql.Database(
        "metadata-db",
        name=db_name,
        instance=instance.name,
        project=project,
        deletion_policy="ABANDON",
    )
    user = sql.User(
        "metadata-user",
        name=user_name,
        instance=instance.name,
        project=project,
        password=password,
        deletion_policy="ABANDON",
        opts=pulumi.ResourceOptions(additional_secret_outputs=["password"]),
    )
    url = pulumi.Output.all(user.name, password, database.name, instance.connection_name).apply(
        lambda v: postgres_url(
            user=v[0], password=v[1], database=v[2], query={"host": f"/cloudsql/{v[3]}"}
        )
    )
    return pulumi.Output.secret(url)
