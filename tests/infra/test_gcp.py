"""The GCP program under Pulumi mocks: resources, key inputs, secrets, IAM scope, node pools."""

from __future__ import annotations

import pytest

from flowyml.core import outputs as keys
from flowyml.infra import gcp

from .builders import (
    FORBIDDEN_PROJECT_ROLES,
    Evaluate,
    explicit_dependencies,
    gcp_stack,
    gke_cluster,
)

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

BUCKET = "gcp:storage/bucket:Bucket"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_USER = "gcp:sql/user:User"
SQL_DB = "gcp:sql/database:Database"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
ACCOUNT = "gcp:serviceaccount/account:Account"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
REPO_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
SERVICE = "gcp:projects/service:Service"
PASSWORD = "random:index/randomPassword:RandomPassword"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
K8S_SA = "kubernetes:core/v1:ServiceAccount"
RANDOM_ID = "random:index/randomId:RandomId"
# Names scoped to the stack "production" (flowyml.stacks.physical_names).
RUNNER_ID = "runner-production-ab8e"
RUNNER_REPO = "flowyml-production-ab8e"
RUNNER_EMAIL = f"{RUNNER_ID}@my-gcp-project.iam.gserviceaccount.com"
NODES_EMAIL = "nodes-production-ab8e@my-gcp-project.iam.gserviceaccount.com"


def test_declares_bucket_database_registry_and_runner(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack())

    counts = {
        t: len(evaluation.by_type(t))
        for t in (BUCKET, INSTANCE, SQL_DB, SQL_USER, REPOSITORY, ACCOUNT, PASSWORD)
    }
    assert counts == dict.fromkeys(counts, 1)
    assert evaluation.by_type(CLUSTER) == []
    bucket = evaluation.get("artifacts", BUCKET).inputs
    assert bucket["name"] == "my-artifacts"
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False
    repo = evaluation.get("registry", REPOSITORY).inputs
    assert (repo["repositoryId"], repo["format"], repo["location"]) == (
        RUNNER_REPO,
        "DOCKER",
        "us-central1",
    )
    assert evaluation.get("runner", ACCOUNT).inputs["accountId"] == RUNNER_ID


def test_force_destroy_only_when_declared(evaluate: Evaluate) -> None:
    declared = evaluate(gcp_stack(bucket={"force_destroy": True}))

    assert declared.get("artifacts", BUCKET).inputs["forceDestroy"] is True


def test_cloud_sql_is_protected_postgres_with_a_secret_generated_password(
    evaluate: Evaluate,
) -> None:
    evaluation = evaluate(gcp_stack())

    instance = evaluation.get("metadata", INSTANCE).inputs
    assert instance["databaseVersion"] == "POSTGRES_15"
    assert instance["deletionProtection"] is True
    assert instance["settings"]["deletionProtectionEnabled"] is True
    assert instance["settings"]["tier"] == "db-f1-micro"
    assert "authorizedNetworks" not in instance["settings"].get("ipConfiguration", {})
    user = evaluation.get("metadata-user", SQL_USER)
    password = evaluation.get("metadata-password", PASSWORD)
    assert user.inputs["password"] == password.state["result"]
    assert "password" in user.secret_inputs
    assert password.inputs["length"] >= 24


def test_deletion_protection_follows_the_declaration(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(database={"deletion_protection": False}))

    instance = evaluation.get("metadata", INSTANCE).inputs
    assert instance["deletionProtection"] is False
    assert instance["settings"]["deletionProtectionEnabled"] is False


def test_exports_the_contract_keys_with_the_metadata_url_secret(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack())

    out = evaluation.outputs
    assert out[keys.ARTIFACT_URI] == "gs://my-artifacts"
    assert out[keys.REGISTRY_URI] == f"us-central1-docker.pkg.dev/my-gcp-project/{RUNNER_REPO}"
    assert out[keys.SERVICE_ACCOUNT] == RUNNER_EMAIL
    assert (out[keys.EXECUTOR], out[keys.REGION], out[keys.PROJECT_ID]) == (
        "vertex",
        "us-central1",
        "my-gcp-project",
    )
    assert out[keys.EXECUTOR_ENDPOINT] == "https://us-central1-aiplatform.googleapis.com"
    assert evaluation.secret_outputs == {keys.METADATA_URL}
    password = evaluation.get("metadata-password", PASSWORD).state["result"]
    suffix = evaluation.get("metadata-suffix", RANDOM_ID).state["hex"]
    assert out[keys.METADATA_URL] == (
        f"postgresql+psycopg://flowyml:{password}@/flowyml"
        f"?host=/cloudsql/my-gcp-project:us-central1:production-metadata-{suffix}"
    )
    assert password not in str(evaluation.masked_outputs())
    assert keys.CLUSTER_ENDPOINT not in out


def test_runner_gets_resource_scoped_roles_and_no_admin_role(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack())
    member = f"serviceAccount:{RUNNER_EMAIL}"

    bucket_grants = evaluation.by_type(BUCKET_MEMBER)
    assert [(g.inputs["bucket"], g.inputs["role"], g.inputs["member"]) for g in bucket_grants] == [
        ("my-artifacts", gcp.ROLE_OBJECT_ADMIN, member)
    ]
    repo = evaluation.get("registry", REPOSITORY)
    repo_grants = evaluation.by_type(REPO_MEMBER)
    assert [(g.inputs["repository"], g.inputs["role"]) for g in repo_grants] == [
        (repo.state["name"], gcp.ROLE_REGISTRY_WRITER)
    ]
    assert repo_grants[0].inputs["location"] == "us-central1"
    project_roles = {g.inputs["role"] for g in evaluation.by_type(PROJECT_MEMBER)}
    assert project_roles == {gcp.ROLE_CLOUDSQL_CLIENT, gcp.ROLE_VERTEX_USER}
    assert not project_roles & FORBIDDEN_PROJECT_ROLES
    assert {g.inputs["member"] for g in evaluation.by_type(PROJECT_MEMBER)} == {member}


def test_no_vertex_role_or_api_without_vertex(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(use_vertex=False))

    roles = {g.inputs["role"] for g in evaluation.by_type(PROJECT_MEMBER)}
    assert roles == {gcp.ROLE_CLOUDSQL_CLIENT}
    services = {s.inputs["service"] for s in evaluation.by_type(SERVICE)}
    assert gcp.API_AIPLATFORM not in services
    assert evaluation.outputs[keys.EXECUTOR] == "local"


def test_no_database_means_no_sql_resources_role_or_api(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(database=None))

    assert evaluation.by_type(INSTANCE) == evaluation.by_type(PASSWORD) == []
    assert gcp.ROLE_CLOUDSQL_CLIENT not in {
        g.inputs["role"] for g in evaluation.by_type(PROJECT_MEMBER)
    }
    assert gcp.API_SQLADMIN not in {s.inputs["service"] for s in evaluation.by_type(SERVICE)}
    assert keys.METADATA_URL not in evaluation.outputs


def test_declared_registry_uri_is_used_instead_of_creating_one(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(registry_uri="gcr.io/my-gcp-project"))

    assert evaluation.by_type(REPOSITORY) == evaluation.by_type(REPO_MEMBER) == []
    assert evaluation.outputs[keys.REGISTRY_URI] == "gcr.io/my-gcp-project"


def test_required_apis_are_enabled_and_resources_wait_for_them(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(cluster=gke_cluster()))

    services = {s.inputs["service"]: s for s in evaluation.by_type(SERVICE)}
    assert set(services) == {
        gcp.API_STORAGE,
        gcp.API_IAM,
        gcp.API_RESOURCEMANAGER,
        gcp.API_SQLADMIN,
        gcp.API_ARTIFACTREGISTRY,
        gcp.API_AIPLATFORM,
        gcp.API_CONTAINER,
    }
    assert all(s.inputs["disableOnDestroy"] is False for s in services.values())
    depends_on = explicit_dependencies(gcp_stack(cluster=gke_cluster()))
    for name, api in [
        ("artifacts", gcp.API_STORAGE),
        ("metadata", gcp.API_SQLADMIN),
        ("registry", gcp.API_ARTIFACTREGISTRY),
        ("runner", gcp.API_IAM),
        ("cluster", gcp.API_CONTAINER),
        ("runner-vertex-user", gcp.API_AIPLATFORM),
    ]:
        assert services[api].name in depends_on[name], name


def test_gke_node_pools_follow_resource_config(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(cluster=gke_cluster(), use_vertex=False))

    cluster = evaluation.get("cluster", CLUSTER).inputs
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["workloadIdentityConfig"]["workloadPool"] == "my-gcp-project.svc.id.goog"
    gpu = evaluation.get("pool-gpu", NODE_POOL).inputs
    config = gpu["nodeConfig"]
    assert config["machineType"] == "n1-highmem-16"
    assert config["guestAccelerators"][0]["type"] == "nvidia-tesla-v100"
    assert config["guestAccelerators"][0]["count"] == 4
    assert config["spot"] is True
    assert config["diskSizeGb"] == 200
    # Nodes run as their own account; pods get the runner's through Workload Identity.
    assert config["serviceAccount"] == NODES_EMAIL
    assert gpu["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 3}
    assert "nodeCount" not in gpu
    # The declared node_count (1) is where the autoscaled pool starts: the desired size that
    # the cost estimate prices, with the min-max range alongside.
    assert gpu["initialNodeCount"] == 1
    from flowyml.cost import estimate_resource

    estimate = estimate_resource(NODE_POOL, gpu, region="us-central1")
    assert estimate.monthly is not None and estimate.monthly > 0
    assert estimate.monthly_range is not None
    low, high = estimate.monthly_range
    assert low < estimate.monthly < high
    cpu = evaluation.get("pool-cpu", NODE_POOL).inputs
    assert cpu["nodeCount"] == 2
    assert "autoscaling" not in cpu
    assert cpu["nodeConfig"]["spot"] is False
    assert "guestAccelerators" not in cpu["nodeConfig"]
    assert evaluation.outputs[keys.EXECUTOR] == "kubernetes"
    assert evaluation.outputs[keys.NAMESPACE] == "flowyml"
    assert evaluation.outputs[keys.CLUSTER_ENDPOINT].startswith("https://")
    assert evaluation.outputs[keys.EXECUTOR_ENDPOINT] == evaluation.outputs[keys.CLUSTER_ENDPOINT]
    assert evaluation.secret_outputs == {keys.METADATA_URL, keys.KUBECONFIG}
    assert "gke-gcloud-auth-plugin" in evaluation.outputs[keys.KUBECONFIG]


@pytest.mark.parametrize("machine_type", [None, "e2-standard-8"])
def test_gpu_pool_without_an_accelerator_machine_type_fails_early(machine_type: str | None) -> None:
    from flowyml.infra import UnsupportedFeatureError, program_for
    from flowyml.stacks.components import ResourceConfig
    from flowyml.stacks.gcp import GKEClusterSpec, NodePoolSpec

    pool = NodePoolSpec(
        name="gpu",
        resources=ResourceConfig(gpu="nvidia-tesla-t4", gpu_count=1, machine_type=machine_type),
    )
    stack = gcp_stack(cluster=GKEClusterSpec(node_pools=[pool]))

    with pytest.raises(UnsupportedFeatureError) as caught:
        program_for(stack)
    assert caught.value.path == "cluster.node_pools[0].resources.machine_type"
    assert "To fix: " in str(caught.value)


@pytest.mark.parametrize(
    ("version", "tier", "edition"),
    [
        ("POSTGRES_16", "db-f1-micro", "ENTERPRISE"),
        ("POSTGRES_17", "db-g1-small", "ENTERPRISE"),
        ("POSTGRES_15", "db-custom-2-7680", "ENTERPRISE"),
        ("POSTGRES_16", "db-perf-optimized-N-2", "ENTERPRISE_PLUS"),
    ],
)
def test_cloud_sql_edition_is_set_from_the_tier(
    evaluate: Evaluate, version: str, tier: str, edition: str
) -> None:
    """POSTGRES_16+ defaults to Enterprise Plus, where shared-core tiers are an "Invalid Tier"."""
    from flowyml.stacks.gcp import CloudSQLSpec

    stack = gcp_stack(database=CloudSQLSpec(tier=tier, database_version=version))
    settings = evaluate(stack).get("metadata", INSTANCE).inputs["settings"]
    assert (settings["tier"], settings["edition"]) == (tier, edition)


def test_named_resources_are_deleted_before_their_replacement(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(cluster=gke_cluster()))
    first = {r.name for r in evaluation.resources if r.delete_before_replace}
    assert {"artifacts", "metadata", "registry", "runner", "nodes", "cluster"} <= first


def test_cloud_sql_instance_name_is_stack_scoped_and_drawn_per_up(evaluate: Evaluate) -> None:
    """A deleted instance name is taken for about a week: each `up` draws a suffix (in state)."""
    evaluation = evaluate(gcp_stack())
    suffix = evaluation.get("metadata-suffix", RANDOM_ID)
    assert suffix.inputs["byteLength"] == 2
    # A region or project change replaces the instance: it draws a new name with it.
    assert suffix.inputs["keepers"] == {"project": "my-gcp-project", "region": "us-central1"}
    name = evaluation.get("metadata", INSTANCE).inputs["name"]
    assert name == f"production-metadata-{suffix.state['hex']}"


def test_two_stacks_in_one_project_get_different_names(evaluate: Evaluate) -> None:
    names = []
    for stack_name in ("production", "staging"):
        cluster = gke_cluster().model_copy(update={"name": None})  # the default name
        evaluation = evaluate(gcp_stack(name=stack_name, cluster=cluster))
        names.append(
            (
                evaluation.get("runner", ACCOUNT).inputs["accountId"],
                evaluation.get("nodes", ACCOUNT).inputs["accountId"],
                evaluation.get("registry", REPOSITORY).inputs["repositoryId"],
                evaluation.get("cluster", CLUSTER).inputs["name"],
            )
        )
    assert not set(names[0]) & set(names[1])
    assert all("staging" in n for n in names[1])


def test_database_and_user_are_abandoned_with_the_instance(evaluate: Evaluate) -> None:
    """Destroy removes the instance (and everything in it) in one step, never halfway."""
    evaluation = evaluate(gcp_stack())
    assert evaluation.get("metadata-db", SQL_DB).inputs["deletionPolicy"] == "ABANDON"
    assert evaluation.get("metadata-user", SQL_USER).inputs["deletionPolicy"] == "ABANDON"


def test_declared_password_reference_is_used_not_a_random_one(
    evaluate: Evaluate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.stacks.components import CloudSQLMetadataStore

    monkeypatch.setenv("DB_PASSWORD", "s3cret-from-env")
    stack = gcp_stack(metadata_store=CloudSQLMetadataStore(password="${DB_PASSWORD}"))
    evaluation = evaluate(stack)
    assert evaluation.by_type(PASSWORD) == []
    user = evaluation.get("metadata-user", SQL_USER)
    assert user.inputs["password"] == "s3cret-from-env" and "password" in user.secret_inputs
    assert "s3cret-from-env" in evaluation.outputs[keys.METADATA_URL]
    assert "s3cret-from-env" not in str(evaluation.masked_outputs())


def test_declared_password_with_an_unset_variable_is_refused(
    evaluate: Evaluate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.provision.errors import ProgramError
    from flowyml.stacks.components import CloudSQLMetadataStore

    monkeypatch.delenv("DB_PASSWORD", raising=False)
    stack = gcp_stack(metadata_store=CloudSQLMetadataStore(password="${DB_PASSWORD}"))
    with pytest.raises(ProgramError, match="DB_PASSWORD"):
        evaluate(stack)


def test_gke_pods_get_the_runner_identity_through_workload_identity(evaluate: Evaluate) -> None:
    evaluation = evaluate(gcp_stack(cluster=gke_cluster()))
    cluster = evaluation.get("cluster", CLUSTER).inputs
    assert cluster["workloadIdentityConfig"]["workloadPool"] == "my-gcp-project.svc.id.goog"
    binding = evaluation.get("runner-workload-identity", SA_MEMBER).inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == "serviceAccount:my-gcp-project.svc.id.goog[flowyml/flowyml-runner]"
    ksa = evaluation.get("runner-kubernetes-account", K8S_SA).inputs["metadata"]
    assert (ksa["namespace"], ksa["name"]) == ("flowyml", "flowyml-runner")
    assert ksa["annotations"] == {"iam.gke.io/gcp-service-account": RUNNER_EMAIL}
    node_roles = [
        r.inputs
        for r in evaluation.by_type(PROJECT_MEMBER)
        if r.inputs["member"] == f"serviceAccount:{NODES_EMAIL}"
    ]
    assert [r["role"] for r in node_roles] == ["roles/container.defaultNodeServiceAccount"]
    out = evaluation.outputs
    assert (out[keys.NAMESPACE], out[keys.KUBERNETES_SERVICE_ACCOUNT]) == (
        "flowyml",
        "flowyml-runner",
    )


def test_a_declared_instance_name_is_kept(evaluate: Evaluate) -> None:
    """An instance provisioned under the old fixed name keeps it when the name is declared."""
    from flowyml.stacks.gcp import CloudSQLSpec

    evaluation = evaluate(gcp_stack(database=CloudSQLSpec(instance_name="production-metadata")))
    assert evaluation.get("metadata", INSTANCE).inputs["name"] == "production-metadata"
    assert evaluation.by_type(RANDOM_ID) == []
