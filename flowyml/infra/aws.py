"""The AWS program: an :class:`~flowyml.stacks.aws.AWSStack` declaration -> Pulumi resources.

Resources:

- ``artifacts`` (+ ``artifacts-versioning``, ``artifacts-public-access``,
  ``artifacts-encryption``): the S3 bucket, versioned when declared, every public access
  switch blocked, SSE-S3 encryption; ``force_destroy`` only when ``bucket.force_destroy``.
- ``metadata-password`` / ``metadata`` (when ``database`` is declared): a ``random`` password
  kept secret and an RDS PostgreSQL instance (encrypted, not publicly accessible, deletion
  protection on unless declared off, a final snapshot unless protection is off). With a
  cluster it sits in the cluster's VPC (private subnets, a security group admitting 5432 from
  the cluster security group only: :mod:`flowyml.infra.aws_network`); without one, in the
  account's default VPC, reachable only from inside it.
- ``registry``: an ECR repository (scan on push; ``force_delete`` only when declared).
- ``runner`` (+ ``runner-artifacts``, ``runner-registry``): the execution role, trusted by ECS
  tasks (and EKS Pod Identity with a cluster), with inline policies naming only the bucket's
  and the repository's ARNs. The one exception is ``ecr:GetAuthorizationToken``, which AWS
  only grants on ``*`` (see :data:`ACCOUNT_WIDE_ACTIONS`).
- ``cluster`` etc. (when ``cluster`` is declared): see :mod:`flowyml.infra.aws_eks`.

Exports: ``artifact_uri`` (``s3://bucket[/prefix]``), ``metadata_url`` (secret:
``postgresql+psycopg://user:pass@<rds address>:<port>/db``), ``registry_uri`` (the repository
URL ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``), ``service_account`` (the role ARN),
``executor``, ``region``, and with a cluster ``cluster_endpoint`` and ``kubeconfig`` (secret).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowyml.core import outputs as keys
from flowyml.infra.common import (
    SECRET_OUTPUTS,
    component_kind,
    executor_kind,
    export_outputs,
    labels,
    metadata_names,
    postgres_url,
    resource_prefix,
)

if TYPE_CHECKING:
    import pulumi

    from flowyml.infra.aws_network import DatabaseNetwork

S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
S3_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
ECR_PULL_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
ACCOUNT_WIDE_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": "AWS defines no resource type for it: it is only grantable on "
    "'*', and it yields a login token, not access to any repository.",
}
"""Actions granted on ``*`` because AWS accepts no narrower resource, with the reason."""

TRUSTED_SERVICES = ("ecs-tasks.amazonaws.com",)
EKS_POD_IDENTITY = "pods.eks.amazonaws.com"


def assume_role_policy(*, with_cluster: bool) -> str:
    """The execution role's trust policy (ECS tasks; EKS Pod Identity with a cluster)."""
    services = [*TRUSTED_SERVICES, *([EKS_POD_IDENTITY] if with_cluster else [])]
    actions = ["sts:AssumeRole", *(["sts:TagSession"] if with_cluster else [])]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": services}, "Action": actions}
            ],
        }
    )


def bucket_policy(bucket_arn: str) -> str:
    """Inline policy: list that bucket, read/write/delete objects in it, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ListArtifactBucket",
                    "Effect": "Allow",
                    "Action": list(S3_BUCKET_ACTIONS),
                    "Resource": [bucket_arn],
                },
                {
                    "Sid": "ReadWriteArtifacts",
                    "Effect": "Allow",
                    "Action": list(S3_OBJECT_ACTIONS),
                    "Resource": [f"{bucket_arn}/*"],
                },
            ],
        }
    )


def registry_policy(repository_arn: str) -> str:
    """Inline policy: pull and push images of that repository (plus the ECR login token)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PullPushImages",
                    "Effect": "Allow",
                    "Action": list(ECR_PULL_PUSH_ACTIONS),
                    "Resource": [repository_arn],
                },
                {
                    "Sid": "RegistryLogin",
                    "Effect": "Allow",
                    "Action": list(ACCOUNT_WIDE_ACTIONS),
                    "Resource": ["*"],
                },
            ],
        }
    )


def program(stack: Any) -> Callable[[], None]:
    """The Pulumi program for an AWS stack.

    Args:
        stack: An ``AWSStack`` declaration (already checked by ``check_supported``).

    Returns:
        A zero-argument function declaring the resources and exports.
    """

    def run() -> None:
        _declare(stack)

    return run


def _declare(stack: Any) -> None:
    import pulumi_aws.ecr as ecr
    import pulumi_aws.iam as iam

    region: str = stack.region
    tags = labels(stack.name)

    bucket = _bucket(stack, tags)

    repo = ecr.Repository(
        "registry",
        name=stack.ecr.repository,
        force_delete=bool(stack.ecr.force_delete),
        image_tag_mutability="MUTABLE",
        image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        tags=tags,
    )

    with_cluster = stack.cluster is not None
    role = iam.Role(
        "runner",
        name=stack.role_name,
        description=f"flowyml runner for stack {stack.name}",
        assume_role_policy=assume_role_policy(with_cluster=with_cluster),
        tags=tags,
    )
    iam.RolePolicy("runner-artifacts", role=role.id, policy=bucket.arn.apply(bucket_policy))
    iam.RolePolicy("runner-registry", role=role.id, policy=repo.arn.apply(registry_policy))

    cluster_endpoint = kubeconfig = namespace = None
    database_network = None
    if with_cluster:
        from flowyml.infra.aws_eks import declare_cluster
        from flowyml.infra.aws_network import declare_database_network, declare_network

        network = declare_network(region=region, tags=tags)
        eks = declare_cluster(
            stack.cluster, network=network, region=region, tags=tags, runner_role=role
        )
        cluster_endpoint, kubeconfig = eks.endpoint, eks.kubeconfig
        if stack.database is not None:
            database_network = declare_database_network(
                network, client_security_group_id=eks.security_group_id, tags=tags
            )

    metadata_url = _database(stack, tags, database_network) if stack.database is not None else None

    declared = component_kind(getattr(stack, "executor", None)) or "local"
    executor = executor_kind(stack, default="kubernetes" if with_cluster else declared)
    if executor == "kubernetes":
        namespace = getattr(stack.executor, "namespace", None) or "flowyml"

    prefix_path = str(getattr(getattr(stack, "artifact_store", None), "prefix", "") or "")
    artifact_uri = bucket.bucket.apply(
        lambda name: f"s3://{name}/{prefix_path.strip('/')}".rstrip("/")
    )
    export_outputs(
        {
            keys.ARTIFACT_URI: artifact_uri,
            keys.METADATA_URL: metadata_url,
            keys.REGISTRY_URI: repo.repository_url,
            keys.SERVICE_ACCOUNT: role.arn,
            keys.EXECUTOR: executor,
            keys.EXECUTOR_ENDPOINT: cluster_endpoint if executor == "kubernetes" else None,
            keys.CLUSTER_ENDPOINT: cluster_endpoint,
            keys.KUBECONFIG: kubeconfig,
            keys.NAMESPACE: namespace,
            keys.REGION: region,
        },
        secrets=SECRET_OUTPUTS,
    )


def _bucket(stack: Any, tags: dict[str, str]) -> Any:
    import pulumi
    import pulumi_aws.s3 as s3

    spec = stack.bucket
    bucket = s3.Bucket(
        "artifacts", bucket=stack.s3_bucket, force_destroy=bool(spec.force_destroy), tags=tags
    )
    child = pulumi.ResourceOptions(parent=bucket)
    if spec.versioning:
        s3.BucketVersioning(
            "artifacts-versioning",
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
    s3.BucketPublicAccessBlock(
        "artifacts-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    s3.BucketServerSideEncryptionConfiguration(
        "artifacts-encryption",
        bucket=bucket.id,
        rules=[
            s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=(
                    s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            )
        ],
        opts=child,
    )
    return bucket


def _database(
    stack: Any, tags: dict[str, str], network: DatabaseNetwork | None
) -> pulumi.Output[str]:
    """RDS PostgreSQL: in the cluster's VPC when ``network`` is given, else the default VPC."""
    import pulumi
    import pulumi_aws.rds as rds
    import pulumi_random as random

    spec = stack.database
    db_name, user_name = metadata_names(stack)
    password = random.RandomPassword(
        "metadata-password", length=32, special=True, override_special="-_"
    )
    protected = bool(spec.deletion_protection)
    instance = rds.Instance(
        "metadata",
        engine="postgres",
        engine_version=spec.engine_version,
        instance_class=spec.instance_class,
        allocated_storage=spec.allocated_storage,
        storage_type=spec.storage_type,
        storage_encrypted=True,
        multi_az=bool(spec.multi_az),
        db_name=db_name,
        username=user_name,
        password=password.result,
        publicly_accessible=False,
        db_subnet_group_name=network.subnet_group_name if network else None,
        vpc_security_group_ids=network.security_group_ids if network else None,
        deletion_protection=protected,
        backup_retention_period=7,
        skip_final_snapshot=not protected,
        final_snapshot_identifier=f"{resource_prefix(stack.name)}-metadata-final"
        if protected
        else None,
        tags=tags,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["password"]),
    )
    url = pulumi.Output.all(
        instance.username, password.result, instance.db_name, instance.address, instance.port
    ).apply(lambda v: postgres_url(user=v[0], password=v[1], database=v[2], host=v[3], port=v[4]))
    return pulumi.Output.secret(url)
