"""The AWS program under Pulumi mocks: bucket posture, RDS, ECR, IAM scope, EKS node groups."""

from __future__ import annotations

import json

import pytest

from flowyml.core import outputs as keys
from flowyml.infra import UnsupportedFeatureError, aws, program_for
from flowyml.stacks.aws import EKSClusterSpec, NodeGroupSpec
from flowyml.stacks.components import ResourceConfig

from .builders import Evaluate, aws_stack, eks_cluster, policy_document

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
RDS = "aws:rds/instance:Instance"
ECR = "aws:ecr/repository:Repository"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PASSWORD = "random:index/randomPassword:RandomPassword"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
RANDOM_ID = "random:index/randomId:RandomId"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
SUBNET = "aws:ec2/subnet:Subnet"
K8S_SA = "kubernetes:core/v1:ServiceAccount"


def test_bucket_is_versioned_private_encrypted_and_kept_on_destroy(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack())

    bucket = evaluation.get("artifacts", BUCKET)
    assert bucket.inputs["bucket"] == "my-artifacts"
    assert bucket.inputs["forceDestroy"] is False
    versioning = evaluation.get("artifacts-versioning", VERSIONING)
    assert versioning.inputs["bucket"] == bucket.id
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    block = evaluation.get("artifacts-public-access", PUBLIC_BLOCK).inputs
    assert block["bucket"] == bucket.id
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert [block[f] for f in flags] == [True] * 4
    rule = evaluation.get("artifacts-encryption", ENCRYPTION).inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_force_destroy_and_force_delete_only_when_declared(evaluate: Evaluate) -> None:
    default = evaluate(aws_stack())
    declared = evaluate(
        aws_stack(bucket={"force_destroy": True}, ecr={"repository": "ml", "force_delete": True})
    )

    assert default.get("registry", ECR).inputs["forceDelete"] is False
    assert declared.get("artifacts", BUCKET).inputs["forceDestroy"] is True
    assert declared.get("registry", ECR).inputs["forceDelete"] is True
    assert declared.get("registry", ECR).inputs["name"] == "ml"


def test_unversioned_bucket_declares_no_versioning(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack(bucket={"versioning": False}))

    assert evaluation.by_type(VERSIONING) == []
    assert len(evaluation.by_type(PUBLIC_BLOCK)) == 1


def test_rds_is_protected_private_postgres_with_a_secret_generated_password(
    evaluate: Evaluate,
) -> None:
    evaluation = evaluate(aws_stack())

    rds = evaluation.get("metadata", RDS)
    password = evaluation.get("metadata-password", PASSWORD).state["result"]
    assert rds.inputs["engine"] == "postgres"
    assert rds.inputs["engineVersion"] == "15"
    assert rds.inputs["deletionProtection"] is True
    assert rds.inputs["publiclyAccessible"] is False
    assert rds.inputs["storageEncrypted"] is True
    assert rds.inputs["skipFinalSnapshot"] is False
    suffix = evaluation.get("metadata-snapshot-suffix", RANDOM_ID).state["hex"]
    assert rds.inputs["finalSnapshotIdentifier"] == f"aws-prod-metadata-final-{suffix}"
    assert rds.inputs["password"] == password
    assert "password" in rds.secret_inputs
    assert evaluation.secret_outputs == {keys.METADATA_URL}
    host = rds.state["address"]
    assert evaluation.outputs[keys.METADATA_URL] == (
        f"postgresql+psycopg://flowyml:{password}@{host}:5432/flowyml"
    )
    assert password not in str(evaluation.masked_outputs())


def test_unprotected_database_still_takes_a_final_snapshot(evaluate: Evaluate) -> None:
    """Turning protection off to destroy must not also throw the data away."""
    evaluation = evaluate(aws_stack(database={"deletion_protection": False}))
    rds = evaluation.get("metadata", RDS)

    assert rds.inputs["deletionProtection"] is False
    assert rds.inputs["skipFinalSnapshot"] is False
    suffix = evaluation.get("metadata-snapshot-suffix", RANDOM_ID).state["hex"]
    assert rds.inputs["finalSnapshotIdentifier"] == f"aws-prod-metadata-final-{suffix}"


def test_exports_the_contract_keys(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack())

    role = evaluation.get("runner", ROLE)
    repo = evaluation.get("registry", ECR)
    assert evaluation.outputs[keys.ARTIFACT_URI] == "s3://my-artifacts"
    assert evaluation.outputs[keys.REGISTRY_URI] == repo.state["repositoryUrl"]
    assert evaluation.outputs[keys.SERVICE_ACCOUNT] == role.state["arn"]
    assert evaluation.outputs[keys.EXECUTOR] == "local"
    assert evaluation.outputs[keys.REGION] == "us-east-1"
    assert keys.CLUSTER_ENDPOINT not in evaluation.outputs
    assert keys.EXECUTOR_ENDPOINT not in evaluation.outputs  # steps run where the runner is


def test_runner_policies_name_only_the_created_bucket_and_repository(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack())

    bucket_arn = evaluation.get("artifacts", BUCKET).state["arn"]
    repo_arn = evaluation.get("registry", ECR).state["arn"]
    role = evaluation.get("runner", ROLE)
    assert role.inputs["name"] == "flowyml-runner-aws-prod-bb9b"
    assert evaluation.by_type(ATTACHMENT) == []  # no managed policy, AdministratorAccess or other
    policies = evaluation.by_type(ROLE_POLICY)
    assert {p.name for p in policies} == {"runner-artifacts", "runner-registry"}
    for policy in policies:
        assert policy.inputs["role"] == role.id
        for statement in policy_document(policy.inputs)["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in statement["Action"]:
                assert "*" not in action, action
            resources = set(statement["Resource"])
            if set(statement["Action"]) <= set(aws.ACCOUNT_WIDE_ACTIONS):
                assert resources == {"*"}
            else:
                assert resources <= {bucket_arn, f"{bucket_arn}/*", repo_arn}, resources
    documents = [policy_document(p.inputs) for p in policies]
    granted = {a for d in documents for s in d["Statement"] for a in s["Action"]}
    assert {"s3:PutObject", "s3:GetObject", "ecr:PutImage", "ecr:BatchGetImage"} <= granted


def test_trust_policy_adds_pod_identity_only_with_a_cluster(evaluate: Evaluate) -> None:
    plain = policy_document(
        {"policy": evaluate(aws_stack()).get("runner", ROLE).inputs["assumeRolePolicy"]}
    )
    with_cluster = policy_document(
        {
            "policy": evaluate(aws_stack(cluster=eks_cluster()))
            .get("runner", ROLE)
            .inputs["assumeRolePolicy"]
        }
    )

    assert plain["Statement"][0]["Principal"]["Service"] == ["ecs-tasks.amazonaws.com"]
    assert aws.EKS_POD_IDENTITY in with_cluster["Statement"][0]["Principal"]["Service"]


def test_eks_node_groups_follow_resource_config(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack(cluster=eks_cluster()))

    gpu = evaluation.get("nodes-gpu", NODE_GROUP).inputs
    assert gpu["instanceTypes"] == ["g5.xlarge"]
    assert gpu["capacityType"] == "SPOT"
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["diskSize"] == 100
    assert gpu["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 1}
    cpu = evaluation.get("nodes-cpu", NODE_GROUP).inputs
    assert cpu["capacityType"] == "ON_DEMAND"
    assert cpu["amiType"] == "AL2023_x86_64_STANDARD"
    assert cpu["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}
    cluster = evaluation.get("cluster", "aws:eks/cluster:Cluster")
    assert gpu["clusterName"] == cluster.state["name"]
    assert len(gpu["subnetIds"]) == 2
    association = evaluation.get(
        "runner-pod-identity", "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    )
    assert association.inputs["roleArn"] == evaluation.get("runner", ROLE).state["arn"]
    # EKS's own roles carry only the AWS-managed policies EKS requires.
    attached = {a.inputs["policyArn"].rsplit("/", 1)[1] for a in evaluation.by_type(ATTACHMENT)}
    assert attached == {
        "AmazonEKSClusterPolicy",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }
    assert evaluation.outputs[keys.EXECUTOR] == "kubernetes"
    assert evaluation.outputs[keys.CLUSTER_ENDPOINT] == cluster.state["endpoint"]
    assert evaluation.outputs[keys.EXECUTOR_ENDPOINT] == cluster.state["endpoint"]
    assert keys.KUBECONFIG in evaluation.secret_outputs


def test_gpu_field_on_an_eks_node_group_fails_early_with_a_hint() -> None:
    group = NodeGroupSpec(
        name="gpu",
        resources=ResourceConfig(gpu="nvidia-tesla-t4", gpu_count=1, machine_type="m5.xlarge"),
    )

    with pytest.raises(UnsupportedFeatureError) as caught:
        program_for(aws_stack(cluster=EKSClusterSpec(node_groups=[group])))
    assert caught.value.feature == "eks-gpu-accelerator"
    assert "To fix: drop gpu/gpu_count" in str(caught.value)


SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ROUTE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def test_with_a_cluster_rds_sits_in_the_cluster_vpc_reachable_only_from_the_cluster(
    evaluate: Evaluate,
) -> None:
    evaluation = evaluate(aws_stack(cluster=eks_cluster()))

    vpc = evaluation.get("cluster-vpc", "aws:ec2/vpc:Vpc")
    rds = evaluation.get("metadata", RDS).inputs
    group = evaluation.get("metadata-subnets", DB_SUBNET_GROUP)
    access = evaluation.get("metadata-access", SECURITY_GROUP)
    cluster = evaluation.get("cluster", "aws:eks/cluster:Cluster")
    # The instance uses the subnet group and the security group declared for it.
    assert rds["dbSubnetGroupName"] == group.state["name"]
    assert rds["vpcSecurityGroupIds"] == [access.id]
    assert rds["publiclyAccessible"] is False
    # The subnet group holds private subnets of the cluster's VPC, in two zones.
    subnets = {s.id: s for s in evaluation.by_type(SUBNET)}
    db_subnets = [subnets[i] for i in group.inputs["subnetIds"]]
    assert {s.inputs["availabilityZone"] for s in db_subnets} == {"us-east-1a", "us-east-1b"}
    assert all(s.inputs["vpcId"] == vpc.id for s in db_subnets)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in db_subnets)
    routed = {a.inputs["subnetId"] for a in evaluation.by_type(ROUTE_ASSOCIATION)}
    assert routed.isdisjoint(group.inputs["subnetIds"])  # no route to the internet gateway
    # Cluster nodes are in the same VPC (other subnets).
    node_subnets = evaluation.get("nodes-cpu", NODE_GROUP).inputs["subnetIds"]
    assert all(subnets[i].inputs["vpcId"] == vpc.id for i in node_subnets)
    assert set(node_subnets).isdisjoint(group.inputs["subnetIds"])
    # The security group admits 5432/tcp from the cluster security group, and nothing else.
    assert access.inputs["vpcId"] == vpc.id
    (rule,) = access.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert rule["securityGroups"] == [cluster.state["vpcConfig"]["clusterSecurityGroupId"]]
    assert not rule.get("cidrBlocks")
    assert access.inputs["egress"] == []


def test_cluster_without_a_database_declares_no_database_network(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack(cluster=eks_cluster(), database=None))

    assert evaluation.by_type(RDS) == []
    assert evaluation.by_type(DB_SUBNET_GROUP) == []
    assert evaluation.by_type(SECURITY_GROUP) == []
    assert len(evaluation.by_type(SUBNET)) == 4


def test_without_a_cluster_rds_stays_private_in_the_default_vpc(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack())

    rds = evaluation.get("metadata", RDS).inputs
    assert rds["publiclyAccessible"] is False
    assert "dbSubnetGroupName" not in rds and "vpcSecurityGroupIds" not in rds
    assert evaluation.by_type("aws:ec2/vpc:Vpc") == []
    assert evaluation.by_type(SECURITY_GROUP) == []


def test_declared_ecr_registry_is_used_and_no_repository_created(evaluate: Evaluate) -> None:
    registry = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/images"
    evaluation = evaluate(aws_stack(ecr_registry=registry))

    assert evaluation.by_type(ECR) == []
    assert evaluation.outputs[keys.REGISTRY_URI] == registry
    policy = policy_document(evaluation.get("runner-registry", ROLE_POLICY).inputs)
    pull_push = next(s for s in policy["Statement"] if s["Sid"] == "PullPushImages")
    assert pull_push["Resource"] == ["arn:aws:ecr:eu-west-1:210987654321:repository/team/images"]


def test_registry_without_a_repository_path_grants_its_repositories() -> None:
    arn = aws.ecr_repository_arn("210987654321.dkr.ecr.us-east-1.amazonaws.com")
    assert arn == "arn:aws:ecr:us-east-1:210987654321:repository/*"


@pytest.mark.parametrize(
    ("instance_type", "ami"),
    [
        ("t4g.medium", "AL2023_ARM_64_STANDARD"),
        ("m7g.large", "AL2023_ARM_64_STANDARD"),
        ("c7gn.xlarge", "AL2023_ARM_64_STANDARD"),
        ("m6gd.large", "AL2023_ARM_64_STANDARD"),
        ("g5g.xlarge", "AL2023_ARM_64_NVIDIA"),
        ("g5.xlarge", "AL2023_x86_64_NVIDIA"),
        ("m5d.large", "AL2023_x86_64_STANDARD"),
        ("t3.medium", "AL2023_x86_64_STANDARD"),
    ],
)
def test_graviton_node_groups_get_an_arm_ami(
    evaluate: Evaluate, instance_type: str, ami: str
) -> None:
    cluster = EKSClusterSpec(
        node_groups=[NodeGroupSpec(name="g", resources=ResourceConfig(machine_type=instance_type))]
    )
    group = evaluate(aws_stack(cluster=cluster)).get("nodes-g", NODE_GROUP)
    assert group.inputs["amiType"] == ami


def test_subnets_use_the_regions_zones(evaluate: Evaluate) -> None:
    """Not every region has zones `a` and `b`: they are asked of the account."""
    evaluation = evaluate(aws_stack(region="eu-west-1", cluster=eks_cluster()))
    zones = sorted(s.inputs["availabilityZone"] for s in evaluation.by_type(SUBNET))
    assert zones == ["eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b"]


def test_runner_kubernetes_account_assumes_the_role_through_irsa(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack(cluster=eks_cluster()))

    issuer = evaluation.get("cluster", "aws:eks/cluster:Cluster").state["identities"][0]
    issuer_url = issuer["oidcs"][0]["issuer"]
    provider = evaluation.get("cluster-oidc", OIDC)
    assert provider.inputs["url"] == issuer_url
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    role = evaluation.get("runner", ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    web = next(s for s in trust["Statement"] if s.get("Sid") == "KubernetesServiceAccount")
    host = issuer_url.removeprefix("https://")
    assert web["Principal"] == {"Federated": provider.state["arn"]}
    assert web["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert web["Condition"]["StringEquals"] == {
        f"{host}:sub": "system:serviceaccount:flowyml:flowyml-runner",
        f"{host}:aud": "sts.amazonaws.com",
    }
    ksa = evaluation.get("runner-kubernetes-account", K8S_SA).inputs["metadata"]
    assert (ksa["namespace"], ksa["name"]) == ("flowyml", "flowyml-runner")
    assert ksa["annotations"] == {"eks.amazonaws.com/role-arn": role.state["arn"]}
    out = evaluation.outputs
    assert (out[keys.NAMESPACE], out[keys.KUBERNETES_SERVICE_ACCOUNT]) == (
        "flowyml",
        "flowyml-runner",
    )


def test_named_aws_resources_are_deleted_before_their_replacement(evaluate: Evaluate) -> None:
    evaluation = evaluate(aws_stack(cluster=eks_cluster()))
    first = {r.name for r in evaluation.resources if r.delete_before_replace}
    assert {"artifacts", "registry", "runner", "cluster"} <= first


def test_default_aws_names_are_scoped_to_the_stack(evaluate: Evaluate) -> None:
    a = evaluate(aws_stack(cluster=EKSClusterSpec()))
    b = evaluate(aws_stack(name="aws-dev", s3_bucket="other-bucket", cluster=EKSClusterSpec()))
    for name, token, key in (
        ("runner", ROLE, "name"),
        ("registry", ECR, "name"),
        ("cluster", "aws:eks/cluster:Cluster", "name"),
    ):
        assert a.get(name, token).inputs[key] != b.get(name, token).inputs[key]
        assert "aws-dev" in b.get(name, token).inputs[key]
