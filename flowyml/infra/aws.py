"""The AWS program: an :class:`~flowyml.stacks.aws.AWSStack` declaration -> Pulumi resources.

Resources:

- ``artifacts`` (+ ``artifacts-versioning``, ``artifacts-public-access``,
  ``artifacts-encryption``): the S3 bucket, versioned when declared, every public access
  switch blocked, SSE-S3 encryption; ``force_destroy`` only when ``bucket.force_destroy``.
- ``metadata-password`` / ``metadata`` (when ``database`` is declared): a ``random`` password
  kept secret and an RDS PostgreSQL instance (encrypted, not publicly accessible, deletion
  protection on unless declared off, and always a final snapshot on delete, named
  ``<stack>-metadata-final-<suffix drawn per up>``: see :mod:`flowyml.infra.destroy`). With a
  cluster it sits in the cluster's VPC (private subnets, a security group admitting 5432 from
  the cluster security group only: :mod:`flowyml.infra.aws_network`); without one, in the
  account's default VPC, reachable only from inside it.
- ``registry``: an ECR repository (scan on push; ``force_delete`` only when declared), unless
  ``ecr_registry`` names an existing registry: then nothing is created, that URI is exported
  and the runner may pull and push there only.
- ``runner`` (+ ``runner-artifacts``, ``runner-registry``): the execution role, trusted by ECS
  tasks (and, with a cluster, EKS Pod Identity and IRSA for the runner's Kubernetes service
  account), with inline policies naming only the bucket's and the repository's ARNs. The one exception is ``ecr:GetAuthorizationToken``, which AWS
  only grants on ``*`` (see :data:`ACCOUNT_WIDE_ACTIONS`).
- ``cluster`` etc. (when ``cluster`` is declared): see :mod:`flowyml.infra.aws_eks`.

Exports: ``artifact_uri`` (``s3://bucket[/prefix]``), ``metadata_url`` (secret:
``postgresql+psycopg://user:pass@<rds address>:<port>/db``), ``registry_uri`` (the repository
URL ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``), ``service_account`` (the role ARN),
``executor``, ``region``, and with a cluster ``cluster_endpoint``, ``kubeconfig`` (secret),
``namespace`` and ``kubernetes_service_account``.

Explicitly named resources (bucket, repository, role, cluster) are replaced delete-first: two
cannot hold one name.
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
    fixed_name,
    labels,
    metadata_names,
    postgres_url,
    resource_prefix,
    runner_workload,
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
STS_AUDIENCE = "sts.amazonaws.com"
EKS_POD_IDENTITY = "pods.eks.amazonaws.com"


def assume_role_policy(
    *, with_cluster: bool, oidc: tuple[str, str] | None = None, subject: str | None = None
) -> str:
    """The execution role's trust policy.

    ECS tasks always; with a cluster, EKS Pod Identity and, given ``oidc`` (provider ARN, issuer
    host without ``https://``) and ``subject`` (``system:serviceaccount:<ns>:<name>``), IRSA for
    that one Kubernetes service account (audience ``sts.amazonaws.com``).
    """
    services = [*TRUSTED_SERVICES, *([EKS_POD_IDENTITY] if with_cluster else [])]
    actions = ["sts:AssumeRole", *(["sts:TagSession"] if with_cluster else [])]
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": {"Service": services}, "Action": actions}
    ]
    if oidc is not None and subject is not None:
        arn, issuer = oidc
        statements.append(
            {
                "Sid": "KubernetesServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": STS_AUDIENCE}
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def ecr_repository_arn(registry_uri: str) -> str:
    """The ARN of the repositories a declared ECR registry URI covers.

    ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>`` -> that repository;
    without a repository path -> every repository of the registry (``repository/*``).
    """
    host, _, repo = registry_uri.partition("/")
    account, _dkr, _ecr, region = host.split(".")[:4]
    return f"arn:aws:ecr:{region}:{account}:repository/{repo or '*'}"


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
    import pulumi
    import pulumi_aws.ecr as ecr
    import pulumi_aws.iam as iam

    region: str = stack.region
    tags = labels(stack.name)

    bucket = _bucket(stack, tags)

    registry_uri: Any = getattr(stack, "ecr_registry", None)
    if registry_uri:
        # A declared registry is used as is: nothing is created, its URI is the output.
        repository_arn: Any = ecr_repository_arn(registry_uri)
    else:
        repo = ecr.Repository(
            "registry",
            name=stack.repository_name,
            force_delete=bool(stack.ecr.force_delete),
            image_tag_mutability="MUTABLE",
            image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            tags=tags,
            opts=fixed_name(),
        )
        registry_uri, repository_arn = repo.repository_url, repo.arn

    with_cluster = stack.cluster is not None
    cluster_endpoint = kubeconfig = namespace = ksa = None
    database_network = None
    eks = None
    trust: Any = assume_role_policy(with_cluster=with_cluster)
    if with_cluster:
        from flowyml.infra.aws_eks import declare_cluster
        from flowyml.infra.aws_network import declare_database_network, declare_network

        namespace, ksa = runner_workload(stack)
        network = declare_network(region=region, tags=tags)
        eks = declare_cluster(
            stack.cluster, name=stack.cluster_name, network=network, region=region, tags=tags
        )
        subject = f"system:serviceaccount:{namespace}:{ksa}"
        trust = pulumi.Output.all(eks.oidc_provider_arn, eks.oidc_issuer).apply(
            lambda v: assume_role_policy(
                with_cluster=True, oidc=(v[0], v[1].removeprefix("https://")), subject=subject
            )
        )
        cluster_endpoint, kubeconfig = eks.endpoint, eks.kubeconfig
        if stack.database is not None:
            database_network = declare_database_network(
                network, client_security_group_id=eks.security_group_id, tags=tags
            )

    role = iam.Role(
        "runner",
        name=stack.runner_role_name,
        description=f"flowyml runner for stack {stack.name}",
        assume_role_policy=trust,
        tags=tags,
        opts=fixed_name(),
    )
    iam.RolePolicy("runner-artifacts", role=role.id, policy=bucket.arn.apply(bucket_policy))
    registry_policy_json = (
        registry_policy(repository_arn)
        if isinstance(repository_arn, str)
        else repository_arn.apply(registry_policy)
    )
    iam.RolePolicy("runner-registry", role=role.id, policy=registry_policy_json)
    if eks is not None and namespace is not None and ksa is not None:
        from flowyml.infra.aws_eks import bind_runner

        bind_runner(eks, role, namespace=namespace, service_account=ksa, tags=tags)

    metadata_url = _database(stack, tags, database_network) if stack.database is not None else None

    declared = component_kind(getattr(stack, "executor", None)) or "local"
    executor = executor_kind(stack, default="kubernetes" if with_cluster else declared)

    prefix_path = str(getattr(getattr(stack, "artifact_store", None), "prefix", "") or "")
    artifact_uri = bucket.bucket.apply(
        lambda name: f"s3://{name}/{prefix_path.strip('/')}".rstrip("/")
    )
    export_outputs(
        {
            keys.ARTIFACT_URI: artifact_uri,
            keys.METADATA_URL: metadata_url,
            keys.REGISTRY_URI: registry_uri,
            keys.SERVICE_ACCOUNT: role.arn,
            keys.EXECUTOR: executor,
            keys.EXECUTOR_ENDPOINT: cluster_endpoint if executor == "kubernetes" else None,
            keys.CLUSTER_ENDPOINT: cluster_endpoint,
            keys.KUBECONFIG: kubeconfig,
            keys.NAMESPACE: namespace,
            keys.KUBERNETES_SERVICE_ACCOUNT: ksa,
            keys.REGION: region,
        },
        secrets=SECRET_OUTPUTS,
    )


def _bucket(stack: Any, tags: dict[str, str]) -> Any:
    import pulumi
    import pulumi_aws.s3 as s3

    spec = stack.bucket
    bucket = s3.Bucket(
        "artifacts",
        bucket=stack.s3_bucket,
        force_destroy=bool(spec.force_destroy),
        tags=tags,
        opts=fixed_name(),
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
    # Drawn once per `up` and kept in state: the final snapshot of each instance has its own
    # name, so destroy -> up -> destroy never collides with the snapshot kept the first time.
    snapshot_suffix = random.RandomId("metadata-snapshot-suffix", byte_length=3)
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
        deletion_protection=bool(spec.deletion_protection),
        backup_retention_period=7,
        # Always a final snapshot on delete, whatever the deletion protection: protection only
        # decides whether a delete is allowed at all (see flowyml.infra.destroy).
        skip_final_snapshot=False,
        final_snapshot_identifier=snapshot_suffix.hex.apply(
            lambda h: final_snapshot_name(stack.name, h)
        ),
        copy_tags_to_snapshot=True,
        tags=tags,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["password"]),
    )
    url = pulumi.Output.all(
        instance.username, password.result, instance.db_name, instance.address, instance.port
    ).apply(lambda v: postgres_url(user=v[0], password=v[1], database=v[2], host=v[3], port=v[4]))
    return pulumi.Output.secret(url)


def final_snapshot_name(stack_name: str, suffix: str) -> str:
    """``<stack prefix>-metadata-final-<suffix>``: the RDS snapshot a destroy leaves behind."""
    return f"{resource_prefix(stack_name)}-metadata-final-{suffix}"
