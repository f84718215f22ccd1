"""Guardrails (``flowyml stack check``): a table of purpose-built resources per rule, then the
shipped and purpose-built stacks through their real programs (under Pulumi's mocks, the only
engine that exists here) and through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowyml.core.plan import CREATE, DELETE, Plan, ResourceChange
from flowyml.provision.guardrails import Severity, check_plan, check_stack, is_production

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

GCS = "gcp:storage/bucket:Bucket"
S3 = "aws:s3/bucket:Bucket"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
RDS = "aws:rds/instance:Instance"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
GKE = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
EKS = "aws:eks/cluster:Cluster"
K8S_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"

SAFE_GCS = {
    "name": "b",
    "publicAccessPrevention": "enforced",
    "uniformBucketLevelAccess": True,
    "versioning": {"enabled": True},
}
SAFE_SQL = {
    "name": "db",
    "deletionProtection": True,
    "settings": {"deletionProtectionEnabled": True, "backupConfiguration": {"enabled": True}},
}
SAFE_RDS = {
    "identifier": "db",
    "deletionProtection": True,
    "storageEncrypted": True,
    "backupRetentionPeriod": 7,
    "publiclyAccessible": False,
}


def _change(type_: str, name: str, after: dict[str, Any], **kw: Any) -> ResourceChange:
    return ResourceChange(
        f"urn:pulumi:s::flowyml::{type_}::{name}", type_, name, CREATE, after=after, **kw
    )


def _s3(name: str = "b", *, satellites: bool = True) -> list[ResourceChange]:
    changes = [_change(S3, "artifacts", {"bucket": name})]
    if satellites:
        flags = dict.fromkeys(
            ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
            True,
        )
        changes += [
            _change(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "pab",
                {"bucket": name, **flags},
            ),
            _change(
                "aws:s3/bucketVersioning:BucketVersioning",
                "ver",
                {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
            ),
            _change(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "enc",
                {"bucket": name, "rules": []},
            ),
        ]
    return changes


def _policy(*statements: dict[str, Any]) -> ResourceChange:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return _change(ROLE_POLICY, "runner-policy", {"role": "r", "policy": json.dumps(document)})


def _findings(stack: str, *changes: ResourceChange, own_arns: frozenset[str] = frozenset()):
    plan = Plan(stack, "preview", "offline", tuple(changes))
    return [(f.rule, f.severity) for f in check_plan(plan, own_arns=own_arns).findings]


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
ALLOW = "Allow"

CASES: list[tuple[str, str, list[ResourceChange], list[tuple[str, Severity]]]] = [
    # -- buckets
    ("safe GCS bucket", "dev", [_change(GCS, "b", SAFE_GCS)], []),
    (
        "GCS bucket granted to allUsers",
        "dev",
        [
            _change(GCS, "b", SAFE_GCS),
            _change(
                "gcp:storage/bucketIAMMember:BucketIAMMember",
                "pub",
                {"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"},
            ),
        ],
        [("bucket-public", E)],
    ),
    (
        "GCS bucket without public access prevention, dev",
        "dev",
        [_change(GCS, "b", {**SAFE_GCS, "publicAccessPrevention": "inherited"})],
        [("bucket-public-access-not-blocked", W)],
    ),
    (
        "same on production",
        "production",
        [_change(GCS, "b", {**SAFE_GCS, "publicAccessPrevention": "inherited"})],
        [("bucket-public-access-not-blocked", E)],
    ),
    (
        "GCS bucket without versioning",
        "dev",
        [_change(GCS, "b", {**SAFE_GCS, "versioning": None})],
        [("bucket-unversioned", W)],
    ),
    ("S3 bucket with every satellite", "dev", _s3(), []),
    (
        "bare S3 bucket",
        "dev",
        _s3(satellites=False),
        [
            ("bucket-public-access-not-blocked", W),
            ("bucket-unversioned", W),
            ("bucket-unencrypted", INFO),
        ],
    ),
    (
        "S3 bucket policy open to '*'",
        "dev",
        [
            *_s3(),
            _change(
                "aws:s3/bucketPolicy:BucketPolicy",
                "bp",
                {
                    "bucket": "b",
                    "policy": json.dumps(
                        {
                            "Statement": [
                                {"Effect": ALLOW, "Principal": "*", "Action": "s3:GetObject"}
                            ]
                        }
                    ),
                },
            ),
        ],
        [("bucket-public", E)],
    ),
    (
        "S3 public-read ACL",
        "dev",
        [
            *_s3(),
            _change("aws:s3/bucketAclV2:BucketAclV2", "acl", {"bucket": "b", "acl": "public-read"}),
        ],
        [("bucket-public", E)],
    ),
    # -- databases
    ("protected Cloud SQL on production", "production", [_change(SQL, "db", SAFE_SQL)], []),
    (
        "Cloud SQL without API deletion protection or backups, production",
        "production",
        [_change(SQL, "db", {"name": "db", "settings": {}})],
        [("database-backups", E), ("database-deletion-protection", E)],
    ),
    (
        "same on a dev stack: information only",
        "dev",
        [_change(SQL, "db", {"name": "db", "settings": {}})],
        [("database-backups", INFO), ("database-deletion-protection", INFO)],
    ),
    (
        "Cloud SQL open to 0.0.0.0/0",
        "dev",
        [
            _change(
                SQL,
                "db",
                {
                    **SAFE_SQL,
                    "settings": {
                        **SAFE_SQL["settings"],
                        "ipConfiguration": {
                            "ipv4Enabled": True,
                            "authorizedNetworks": [{"value": "0.0.0.0/0"}],
                        },
                    },
                },
            )
        ],
        [("database-public", E)],
    ),
    ("safe RDS on aws-prod", "aws-prod", [_change(RDS, "db", SAFE_RDS)], []),
    (
        "RDS unencrypted, public, no backups, aws-prod",
        "aws-prod",
        [
            _change(
                RDS,
                "db",
                {
                    **SAFE_RDS,
                    "storageEncrypted": False,
                    "publiclyAccessible": True,
                    "backupRetentionPeriod": 0,
                    "deletionProtection": False,
                },
            )
        ],
        [
            ("database-backups", E),
            ("database-deletion-protection", E),
            ("database-public", E),
            ("database-unencrypted", E),
        ],
    ),
    # -- IAM
    (
        "policy naming the stack's own bucket",
        "dev",
        [
            *_s3("art"),
            _policy(
                {"Effect": ALLOW, "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::art/*"]},
                {"Effect": ALLOW, "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
            ),
        ],
        [],
    ),
    (
        "'*' action",
        "dev",
        [_policy({"Effect": ALLOW, "Action": "*", "Resource": "*"})],
        [("iam-wildcard", E)],
    ),
    (
        "service wildcard on own bucket",
        "dev",
        [*_s3("art"), _policy({"Effect": ALLOW, "Action": "s3:*", "Resource": "arn:aws:s3:::art"})],
        [("iam-wildcard", W)],
    ),
    (
        "object access on every resource",
        "dev",
        [_policy({"Effect": ALLOW, "Action": ["s3:GetObject"], "Resource": "*"})],
        [("iam-wildcard", E)],
    ),
    (
        "a bucket the stack does not declare",
        "dev",
        [
            *_s3("art"),
            _policy(
                {"Effect": ALLOW, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::payroll/*"}
            ),
        ],
        [("iam-wildcard", W)],
    ),
    (
        "GCP grant on a bucket the stack does not declare",
        "dev",
        [
            _change(GCS, "b", SAFE_GCS),
            _change(
                "gcp:storage/bucketIAMMember:BucketIAMMember",
                "own",
                {"bucket": "b", "role": "roles/storage.objectAdmin", "member": None},
            ),
            _change(
                "gcp:storage/bucketIAMMember:BucketIAMMember",
                "other",
                {"bucket": "payroll", "role": "roles/storage.objectAdmin", "member": None},
            ),
        ],
        [("iam-foreign-resource", W)],
    ),
    (
        "managed policies",
        "dev",
        [
            _change(ATTACH, "admin", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            _change(ATTACH, "s3full", {"policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
            _change(
                ATTACH, "eks", {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}
            ),
        ],
        [("iam-managed-policy", E), ("iam-managed-policy", W)],
    ),
    (
        "GCP project roles",
        "dev",
        [
            _change(PROJECT_IAM, "a-editor", {"role": "roles/editor", "member": None}),
            _change(
                PROJECT_IAM, "b-storage-admin", {"role": "roles/storage.admin", "member": None}
            ),
            _change(PROJECT_IAM, "c-pubsub", {"role": "roles/pubsub.publisher", "member": None}),
            _change(PROJECT_IAM, "d-sql", {"role": "roles/cloudsql.client", "member": None}),
        ],
        [("iam-project-role", E), ("iam-project-role", E), ("iam-project-role", W)],
    ),
    (
        "Kubernetes RBAC",
        "dev",
        [
            _change(
                K8S_ROLE,
                "wild",
                {"rules": [{"verbs": ["*"], "resources": ["pods"], "apiGroups": [""]}]},
            ),
            _change(
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
                "crb",
                {"roleRef": {"kind": "ClusterRole", "name": "view"}},
            ),
            _change(
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                "rb",
                {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}},
            ),
        ],
        [("rbac-admin-binding", E), ("rbac-wildcard", E), ("rbac-cluster-wide", W)],
    ),
    # -- clusters
    (
        "GKE with no authorized networks",
        "dev",
        [_change(GKE, "gke", {"name": "ml"})],
        [("cluster-public-endpoint", W)],
    ),
    (
        "same on production",
        "production",
        [_change(GKE, "gke", {"name": "ml"})],
        [("cluster-public-endpoint", E)],
    ),
    (
        "GKE with authorized networks",
        "production",
        [
            _change(
                GKE,
                "gke",
                {
                    "name": "ml",
                    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]},
                },
            )
        ],
        [],
    ),
    (
        "EKS default endpoint",
        "dev",
        [_change(EKS, "eks", {"name": "ml", "vpcConfig": {}})],
        [("cluster-public-endpoint", W)],
    ),
    (
        "EKS restricted endpoint",
        "dev",
        [
            _change(
                EKS, "eks", {"name": "ml", "vpcConfig": {"publicAccessCidrs": ["203.0.113.0/24"]}}
            )
        ],
        [],
    ),
    (
        "a database on spot pools only",
        "dev",
        [
            _change(POOL, "spot-a", {"nodeConfig": {"spot": True}}),
            _change(POOL, "spot-b", {"nodeConfig": {"preemptible": True}}),
            _change(
                "kubernetes:apps/v1:StatefulSet",
                "pg",
                {"spec": {"template": {"spec": {"containers": [{"image": "postgres:16"}]}}}},
            ),
        ],
        [("database-on-spot-only", E)],
    ),
    (
        "a database with an on-demand pool too",
        "dev",
        [
            _change(POOL, "spot-a", {"nodeConfig": {"spot": True}}),
            _change(POOL, "steady", {"nodeConfig": {"spot": False}}),
            _change(
                "kubernetes:apps/v1:StatefulSet",
                "pg",
                {"spec": {"template": {"spec": {"containers": [{"image": "postgres:16"}]}}}},
            ),
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    ("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_table(
    stack: str, changes: list[ResourceChange], expected: list[tuple[str, Severity]]
) -> None:
    found = _findings(stack, *changes)
    assert sorted(found, key=str) == sorted(expected, key=str)


def test_every_finding_has_an_address_a_severity_and_a_fix() -> None:
    plan = Plan("production", "preview", "offline", tuple(c for case in CASES for c in case[2]))
    report = check_plan(plan)
    assert report.findings
    for finding in report.findings:
        assert finding.address.startswith("urn:pulumi:") and finding.fix and finding.message
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks)  # most severe first


def test_an_unknown_policy_is_reported_as_not_checked_never_passed() -> None:
    unknown = _change(ROLE_POLICY, "p", {"role": None, "policy": None}, after_unknown=("policy",))
    report = check_plan(Plan("dev", "preview", "offline", (unknown,)))
    (finding,) = report.findings
    assert finding.severity is Severity.INFO and "not checked offline" in finding.message


def test_deleted_resources_are_not_checked() -> None:
    gone = ResourceChange("urn:x", GCS, "old", DELETE, before={"name": "old"})
    assert check_plan(Plan("production", "preview", "offline", (gone,))).findings == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("production", True),
        ("prod", True),
        ("aws-prod", True),
        ("prod_eu", True),
        ("product", False),
        ("dev", False),
    ],
)
def test_which_stacks_count_as_production(name: str, expected: bool) -> None:
    assert is_production(name) is expected


# -- stacks through their real programs ---------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "flowyml.yaml").write_text("")
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    (tmp_path / "stacks" / "aws-unsafe.yaml").write_text(
        "name: production-aws\ntype: aws\nregion: us-east-1\ns3_bucket: my-prod-artifacts\n"
        "bucket:\n  versioning: false\ndatabase:\n  deletion_protection: false\n"
    )
    (tmp_path / "stacks" / "eks.yaml").write_text(
        "name: eks-dev\ntype: aws\nregion: us-east-1\ns3_bucket: my-eks-artifacts\n"
        "cluster:\n  name: ml\n  node_groups:\n    - name: cpu\n"
    )
    for var in ("GCP_REGION", "GCP_PROJECT_ID", "GCP_BUCKET", "AWS_REGION", "AWS_BUCKET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(tmp_path))
    return tmp_path


def _report(name: str):
    from flowyml.provision.offline import OfflinePlanner
    from flowyml.stacks.registry import StackRegistry

    stack = StackRegistry().get_stack(name)
    plan = OfflinePlanner().preview(stack)
    return stack, plan, check_stack(stack, plan)


def test_the_shipped_stacks_pass_with_one_known_warning(project: Path) -> None:
    _stack, _plan, production = _report("production")
    assert [(f.rule, f.severity, f.name) for f in production.findings] == [
        ("bucket-unversioned", Severity.WARNING, "artifacts")
    ]
    assert _report("k8s-cluster")[2].findings == ()


def test_aws_policies_are_read_with_placeholder_ids_not_skipped(project: Path) -> None:
    stack, plan, report = _report("aws-prod")
    # Offline, the role policy embedding the bucket ARN and the S3 satellites' bucket id are
    # known only after apply: checked alone, the plan says "not checked" for each...
    alone = check_plan(plan).findings
    unchecked = [f for f in alone if "not checked offline" in f.message]
    assert len(unchecked) >= 4 and all(f.severity is Severity.INFO for f in unchecked)
    # ...so the checker fills them from the program with placeholder ids and really reads them.
    assert report.placeholders
    assert not [f for f in report.findings if "not checked offline" in f.message]
    assert report.errors == ()
    from flowyml.provision.guardrails import with_placeholders

    filled, arns = with_placeholders(stack, plan)
    policies = [c for c in filled.changes if c.type == ROLE_POLICY]
    assert policies and all(json.loads(c.after["policy"])["Statement"] for c in policies)
    assert "arn:aws:s3:::my-artifacts" in arns


def test_a_purpose_built_unsafe_production_stack_fails(project: Path) -> None:
    _stack, _plan, report = _report("production-aws")
    errors = {(f.rule, f.name) for f in report.errors}
    assert ("database-deletion-protection", "metadata") in errors
    assert ("bucket-unversioned", "artifacts") in {(f.rule, f.name) for f in report.findings}


def test_a_cluster_from_the_program_has_a_public_endpoint(project: Path) -> None:
    report = _report("eks-dev")[2]
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("cluster-public-endpoint", Severity.WARNING)
    ]


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWYML_", "GCP_", "AWS_"))}
    env["FLOWYML_PROJECT_DIR"] = str(project)
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", "stack", *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_stack_check_exit_codes_and_json(project: Path) -> None:
    clean = _cli(project, "check", "production")
    assert clean.returncode == 0, clean.stderr
    assert "WARNING bucket-unversioned" in clean.stdout and "To fix:" in clean.stdout

    unsafe = _cli(project, "check", "production-aws", "--json")
    assert unsafe.returncode == 4
    doc = json.loads(unsafe.stdout)
    assert doc["summary"]["error"] >= 1
    for finding in doc["findings"]:
        assert {"rule", "severity", "address", "fix"} <= set(finding)
    (line,) = [x for x in unsafe.stderr.splitlines() if x.startswith("Error:")]
    assert "database-deletion-protection on metadata" in line


def test_preview_check_prints_the_plan_and_fails_with_4(project: Path) -> None:
    result = _cli(project, "preview", "production-aws", "--offline", "--check")
    assert result.returncode == 4
    assert (
        "Monthly cost:" in result.stdout and "Guardrails for stack production-aws" in result.stdout
    )
    as_json = _cli(project, "preview", "production-aws", "--offline", "--check", "--json")
    assert as_json.returncode == 4
    doc = json.loads(as_json.stdout)
    assert doc["resource_changes"] and doc["guardrails"]["summary"]["error"] >= 1
    assert _cli(project, "preview", "production-aws", "--offline").returncode == 0  # opt-in
