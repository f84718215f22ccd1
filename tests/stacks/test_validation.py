"""Naming rules (tables per provider) and Stack.validate() collecting every problem."""

from __future__ import annotations

import pytest

from flowyml.stacks import rules
from flowyml.stacks.aws import AWSStack, EKSClusterSpec, NodeGroupSpec
from flowyml.stacks.components import ECRContainerRegistry, ResourceConfig
from flowyml.stacks.errors import StackError, StackValidationError
from flowyml.stacks.gcp import CloudSQLSpec, GCPStack, GKEClusterSpec, NodePoolSpec
from flowyml.stacks.k8s import KubernetesStack


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("my-gcp-project", True),
        ("abcdef", True),
        ("abcde", False),  # too short
        ("a" * 31, False),  # too long
        ("1project", False),  # digit first
        ("My-project", False),  # uppercase
        ("my_project", False),  # underscore
        ("my-project-", False),  # trailing hyphen
        ("my-google-proj", False),  # restricted word
    ],
)
def test_gcp_project_ids(value: str, ok: bool) -> None:
    assert (rules.check_gcp_project_id(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "gcs_ok", "s3_ok"),
    [
        ("my-artifacts", True, True),
        ("my_artifacts", True, False),  # underscores: GCS only
        ("ab", False, False),
        ("a" * 63, True, True),
        ("a" * 64, False, False),
        ("a." * 40 + "b", True, False),  # dotted names may be up to 222 on GCS only
        ("My-bucket", False, False),
        ("-bucket", False, False),
        ("bucket-", False, False),
        ("my..bucket", False, False),  # empty dot part (GCS) / adjacent periods (S3)
        ("192.168.5.4", False, False),
        ("goog-bucket", False, True),  # goog prefix: GCS only
        ("my-google-data", False, True),
        ("xn--bucket", True, False),  # reserved S3 prefix
        ("data-s3alias", True, False),  # reserved S3 suffix
        ("sthree-data", True, False),
    ],
)
def test_bucket_names_gcs_and_s3_differ(value: str, gcs_ok: bool, s3_ok: bool) -> None:
    assert (rules.check_gcs_bucket(value) is None) is gcs_ok
    assert (rules.check_s3_bucket(value) is None) is s3_ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("gcr.io/my-project", True),
        ("eu.gcr.io/my-project/images", True),
        ("us-central1-docker.pkg.dev/my-project/flowyml", True),
        ("us-docker.pkg.dev/my-project/repo", True),
        ("mars-central1-docker.pkg.dev/p/r", False),
        ("us-central1-docker.pkg.dev/my-project", False),
        ("docker.io/me", False),
        ("gcr.io", False),
    ],
)
def test_gcr_uri_forms(value: str, ok: bool) -> None:
    assert (rules.check_gcr_registry_uri(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", True),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app", True),
        ("123456789.dkr.ecr.us-east-1.amazonaws.com", False),  # 9-digit account
        ("123456789012.dkr.ecr.us-moon-1.amazonaws.com", False),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/Bad", False),
        ("gcr.io/x", False),
    ],
)
def test_ecr_uri_forms(value: str, ok: bool) -> None:
    assert (rules.check_ecr_registry_uri(value) is None) is ok


def test_repository_and_region_rules() -> None:
    assert rules.check_artifact_registry_repository("flowyml") is None
    assert rules.check_artifact_registry_repository("Flowyml") is not None
    assert rules.check_artifact_registry_repository("1repo") is not None
    assert rules.check_ecr_repository("team/app-1") is None
    assert rules.check_ecr_repository("a") is not None
    assert rules.check_ecr_repository("team//app") is not None
    assert rules.check_gcp_region("us-central1") is None
    assert "did you mean 'us-central1'" in (rules.check_gcp_region("us-centrl1") or "")
    assert rules.check_aws_region("us-east-1") is None
    assert rules.check_aws_region("us-central1") is not None
    assert rules.check_dockerhub_namespace("myorg") is None
    assert rules.check_dockerhub_namespace("My_Org") is not None


def test_guide_stacks_validate_cleanly() -> None:
    gcp = GCPStack(
        name="production",
        project_id="my-gcp-project",
        region="us-central1",
        bucket_name="my-artifacts",
        registry_uri="gcr.io/my-project",
    )
    assert gcp.validate() == []
    assert KubernetesStack(name="k8s-cluster", namespace="flowyml").validate() == []


def test_guide_aws_registry_has_a_nine_digit_account() -> None:
    # The guide's example account id "123456789" is not a real (12-digit) AWS account id.
    stack = AWSStack(
        name="aws-prod",
        region="us-east-1",
        s3_bucket="my-artifacts",
        ecr_registry="123456789.dkr.ecr.us-east-1.amazonaws.com",
    )
    problems = stack.validate(raise_on_error=False)
    assert [p.path for p in problems] == ["ecr_registry"]
    (found,) = problems
    # What is wrong, exactly: the digit count, that it is a placeholder, and the rule.
    assert found.message == (
        "ECR registry '123456789.dkr.ecr.us-east-1.amazonaws.com' has a 9-digit account id "
        "'123456789' (it looks like a placeholder); AWS account ids have exactly 12 digits"
    )
    # How to fix it: the same URI with the account to fill in, where to find it, or no URI.
    assert found.hint is not None
    assert "'<your 12-digit account id>.dkr.ecr.us-east-1.amazonaws.com'" in found.hint
    assert "aws sts get-caller-identity" in found.hint
    assert "leave ecr_registry unset" in found.hint
    fixed = AWSStack.from_dict(
        {**stack.to_dict(), "ecr_registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}
    )
    assert fixed.validate(raise_on_error=False) == []
    assert AWSStack(name="aws-prod", s3_bucket="my-artifacts").validate() == []


def test_ecr_account_that_is_no_placeholder_is_not_called_one() -> None:
    message = rules.check_ecr_registry_uri("84719203.dkr.ecr.eu-west-1.amazonaws.com/repo")
    assert message is not None and "8-digit account id '84719203'" in message
    assert "placeholder" not in message
    hint = ECRContainerRegistry(uri="84719203.dkr.ecr.eu-west-1.amazonaws.com/repo").problems("r")
    assert hint[0].hint is not None and "eu-west-1.amazonaws.com/repo" in hint[0].hint


def test_validate_raises_one_error_listing_every_problem() -> None:
    stack = GCPStack(
        name="bad",
        project_id="Bad_Project",
        region="us-centrl1",
        bucket_name="goog_bucket",
        registry_uri="docker.io/x",
        service_account_id="sa",
        database=CloudSQLSpec(tier="n1-standard-1"),
        cluster=GKEClusterSpec(
            node_pools=[
                NodePoolSpec(
                    name="gpu",
                    resources=ResourceConfig(cpu="8", gpu_count=1, machine_type="n1-standard-4"),
                )
            ]
        ),
        backend="ftp://state",
    )
    problems = stack.validate(raise_on_error=False)
    paths = [p.path for p in problems]
    assert paths == [
        "backend",
        "project_id",
        "region",
        "bucket_name",
        "registry_uri",
        "service_account_id",
        "database.tier",
        "cluster.node_pools[0].resources.gpu_count",
        "cluster.node_pools[0].resources.machine_type",
    ]
    with pytest.raises(StackValidationError) as info:
        stack.validate()
    err = info.value
    assert isinstance(err, StackError)
    assert len(err.problems) == len(problems)
    assert str(err).startswith("stack 'bad' has 9 problems: backend:")
    assert "\n" not in str(err) and "To fix:" in str(err)


def test_explicit_components_are_checked_too() -> None:
    from flowyml.stacks.components import GCSArtifactStore

    stack = AWSStack(
        name="mixed",
        s3_bucket="good-bucket",
        artifact_store=GCSArtifactStore(bucket="Bad Bucket"),
        cluster=EKSClusterSpec(node_groups=[NodeGroupSpec(name="bad name!")]),
    )
    paths = [p.path for p in stack.validate(raise_on_error=False)]
    assert paths == ["artifact_store.bucket", "cluster.node_groups[0].name"]
