"""Provider specs a real account would reject, refused by ``validate()`` before anything runs."""

from __future__ import annotations

import pytest

from flowyml.stacks.gcp import CloudSQLSpec, GCPStack
from flowyml.stacks.physical_names import scoped_name


def _gcp(**fields: object) -> GCPStack:
    return GCPStack(
        name="production", project_id="my-gcp-project", bucket_name="my-artifacts", **fields
    )


@pytest.mark.parametrize(
    ("tier", "edition", "problem"),
    [
        ("db-f1-micro", None, None),
        ("db-g1-small", "ENTERPRISE", None),
        ("db-custom-2-7680", None, None),
        ("db-perf-optimized-N-2", None, None),
        ("db-perf-optimized-N-8", "ENTERPRISE_PLUS", None),
        # Enterprise Plus offers performance-optimized tiers only.
        ("db-f1-micro", "ENTERPRISE_PLUS", "database.edition"),
        ("db-custom-2-7680", "ENTERPRISE_PLUS", "database.edition"),
        ("db-perf-optimized-N-2", "ENTERPRISE", "database.edition"),
        # Predefined n1/n2 tiers are MySQL / SQL Server only.
        ("db-n1-standard-2", None, "database.tier"),
        ("db-n1-highmem-4", None, "database.tier"),
        ("db-n2-standard-2", None, "database.tier"),
        ("db-custom-2", None, "database.tier"),
    ],
)
def test_cloud_sql_tier_and_edition_pair(
    tier: str, edition: str | None, problem: str | None
) -> None:
    stack = _gcp(database=CloudSQLSpec(tier=tier, edition=edition))
    paths = [p.path for p in stack.validate(raise_on_error=False)]
    assert paths == ([problem] if problem else [])


def test_the_edition_follows_the_tier() -> None:
    assert CloudSQLSpec(tier="db-f1-micro").effective_edition == "ENTERPRISE"
    assert CloudSQLSpec(tier="db-perf-optimized-N-4").effective_edition == "ENTERPRISE_PLUS"


def test_default_names_are_scoped_to_the_stack() -> None:
    a, b = _gcp(), GCPStack(name="staging", project_id="my-gcp-project", bucket_name="b-2")
    assert a.runner_account_id != b.runner_account_id
    assert a.repository_id != b.repository_id
    assert a.service_account_email.startswith("runner-production-")
    assert a.container_registry is not None and a.container_registry.uri.endswith(a.repository_id)
    # Declared names are kept as declared.
    assert _gcp(service_account_id="my-runner").runner_account_id == "my-runner"


@pytest.mark.parametrize(
    ("stack_name", "limit"),
    [("production", 30), ("a-very-long-stack-name-for-the-data-team", 30), ("X_1", 30)],
)
def test_scoped_names_fit_and_end_alphanumeric(stack_name: str, limit: int) -> None:
    name = scoped_name(stack_name, "runner", limit=limit)
    assert len(name) <= limit and name[0].isalpha() and name[-1].isalnum()
    assert "--" not in name and name == scoped_name(stack_name, "runner", limit=limit)


def test_a_declared_password_without_a_database_is_refused() -> None:
    from flowyml.stacks.components import CloudSQLMetadataStore

    stack = _gcp(database=None, metadata_store=CloudSQLMetadataStore(password="${DB_PASSWORD}"))
    assert [p.path for p in stack.validate(raise_on_error=False)] == ["metadata_store.password"]


@pytest.mark.parametrize("instance_type", ["t4g.medium", "m7g.large", "c7gn.xlarge", "t3.medium"])
def test_graviton_and_x86_node_groups_validate(instance_type: str) -> None:
    """Graviton types are valid node groups (the program gives them the ARM64 AMI)."""
    from flowyml.stacks.aws import AWSStack, EKSClusterSpec, NodeGroupSpec
    from flowyml.stacks.components import ResourceConfig

    group = NodeGroupSpec(resources=ResourceConfig(machine_type=instance_type))
    stack = AWSStack(
        name="aws-prod", s3_bucket="my-artifacts", cluster=EKSClusterSpec(node_groups=[group])
    )
    assert stack.validate(raise_on_error=False) == []


def test_aws_default_names_are_scoped_and_declared_ones_kept() -> None:
    from flowyml.stacks.aws import AWSStack

    a = AWSStack(name="aws-prod", s3_bucket="my-artifacts")
    b = AWSStack(name="aws-dev", s3_bucket="my-artifacts-2", role_name="team-runner")
    assert a.runner_role_name.startswith("flowyml-runner-aws-prod-")
    assert b.runner_role_name == "team-runner"
    assert a.repository_name != b.repository_name
