"""Guardrails for access: IAM wider than the stack's own resources.

- AWS policy documents: a ``*`` action is an error, ``service:*`` a warning; ``Resource: "*"`` is
  an error unless every action of the statement is one AWS grants only on ``*`` (the table in
  :data:`flowyml.infra.aws.ACCOUNT_WIDE_ACTIONS`); a resource ARN that is none of the stack's
  own resources is a warning.
- AWS managed policies attached to a role: administrator-like ones are errors, others that EKS
  does not need (:mod:`flowyml.infra.aws_eks`) warnings.
- GCP project-level roles: basic roles (owner/editor) and admin roles are errors, any other role
  beyond what the runner (and GKE nodes) need is a warning.
- Kubernetes RBAC: wildcards in a Role are errors, cluster-wide grants warnings.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from typing import Any

from flowyml.core.plan import ResourceChange
from flowyml.infra.aws import ACCOUNT_WIDE_ACTIONS
from flowyml.infra.aws_eks import CLUSTER_POLICIES, NODE_POLICIES
from flowyml.infra.gcp import ROLE_CLOUDSQL_CLIENT, ROLE_VERTEX_USER
from flowyml.provision.guardrails.model import (
    Hit,
    PlanView,
    Rule,
    Severity,
    after,
    is_unknown,
    unchecked,
)

AWS_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
AWS_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
GCP_PROJECT_IAM = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:projects/iAMBinding:IAMBinding",
)
GCS_BUCKET_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
K8S_ROLES = ("kubernetes:rbac.authorization.k8s.io/v1:Role",)
K8S_CLUSTER_WIDE = (
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
K8S_BINDINGS = ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",)

_AWS_MANAGED = "arn:aws:iam::aws:policy/"
ADMIN_MANAGED_POLICIES = frozenset({"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"})
EKS_MANAGED_POLICIES = frozenset({*CLUSTER_POLICIES, *NODE_POLICIES})

RUNNER_PROJECT_ROLES: Mapping[str, str] = {
    ROLE_CLOUDSQL_CLIENT: "the runner connects to the metadata database",
    ROLE_VERTEX_USER: "the runner submits Vertex AI jobs",
    "roles/container.defaultNodeServiceAccount": "GKE nodes' minimum role",
    "roles/logging.logWriter": "GKE nodes write logs",
    "roles/monitoring.metricWriter": "GKE nodes write metrics",
    "roles/monitoring.viewer": "GKE nodes read metrics",
    "roles/stackdriver.resourceMetadata.writer": "GKE nodes write resource metadata",
    "roles/artifactregistry.reader": "GKE nodes pull images",
}
"""Project-level roles the stack's own identities need, with why; any other is flagged."""

BASIC_ROLES = frozenset({"roles/owner", "roles/editor"})


def _document(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, Mapping) else {}


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _own_patterns(view: PlanView) -> set[str]:
    """ARN patterns of the stack's own resources, from their inputs (and placeholder states)."""
    patterns = set(view.own_arns)
    patterns |= {f"{arn}/*" for arn in view.own_arns}
    for change in view.resources:
        inputs = after(change)
        if change.type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2") and inputs.get(
            "bucket"
        ):
            arn = f"arn:aws:s3:::{inputs['bucket']}"
            patterns |= {arn, f"{arn}/*"}
        elif change.type == "aws:ecr/repository:Repository" and inputs.get("name"):
            patterns.add(f"arn:aws:ecr:*:*:repository/{inputs['name']}")
        elif change.type == "aws:rds/instance:Instance" and inputs.get("identifier"):
            patterns.add(f"arn:aws:rds:*:*:db:{inputs['identifier']}")
        elif change.type == "aws:iam/role:Role" and inputs.get("name"):
            patterns.add(f"arn:aws:iam::*:role/{inputs['name']}")
        elif change.type == "aws:eks/cluster:Cluster" and inputs.get("name"):
            patterns.add(f"arn:aws:eks:*:*:cluster/{inputs['name']}")
    return patterns


def _own(resource: str, patterns: set[str]) -> bool:
    return any(resource == p or fnmatch.fnmatchcase(resource, p) for p in patterns)


def _aws_policy(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    if is_unknown(change, "policy"):
        yield unchecked("policy", f"the policy {change.name}")
        return
    document = _document(after(change).get("policy"))
    raw = document.get("Statement") or []
    patterns = _own_patterns(view)
    for statement in raw if isinstance(raw, list) else [raw]:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        sid = f" (statement {statement['Sid']})" if statement.get("Sid") else ""
        actions = _listed(statement.get("Action"))
        if "*" in actions or statement.get("NotAction"):
            yield Hit(f"{change.name}{sid} allows every action ('*' or NotAction)")
            continue
        wild = [a for a in actions if a.endswith(":*")]
        if wild:
            yield Hit(
                f"{change.name}{sid} allows every action of {', '.join(wild)}",
                fix="list the actions the runner needs (flowyml's programs grant named ones)",
                severity=Severity.WARNING,
            )
        resources = _listed(statement.get("Resource"))
        if "*" in resources:
            broad = [a for a in actions if a not in ACCOUNT_WIDE_ACTIONS]
            if broad:
                yield Hit(
                    f"{change.name}{sid} grants {', '.join(broad)} on every resource ('*')",
                    fix="name the stack's own resource ARNs in Resource",
                )
            continue
        foreign = [r for r in resources if not _own(r, patterns)]
        if foreign and patterns:
            wildcard = any("*" in r for r in foreign)
            yield Hit(
                f"{change.name}{sid} grants access to {', '.join(foreign)}, "
                + (
                    "a wildcard wider than the stack's own resources"
                    if wildcard
                    else "which this stack does not declare"
                ),
                fix="grant access to the stack's own resources only, or declare those in it",
                severity=Severity.WARNING,
            )


def _aws_attachment(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    arn = str(after(change).get("policyArn") or "")
    if not arn.startswith(_AWS_MANAGED):
        return
    policy = arn.removeprefix(_AWS_MANAGED).rsplit("/", 1)[-1]
    if policy in ADMIN_MANAGED_POLICIES:
        yield Hit(
            f"{change.name} attaches {policy}: administrator access to the whole account",
            severity=Severity.ERROR,
        )
    elif policy not in EKS_MANAGED_POLICIES:
        yield Hit(
            f"{change.name} attaches the AWS-managed {policy}, which is not scoped to this "
            "stack's resources",
            fix="write an inline policy naming the stack's resources instead",
        )


def _gcp_project_role(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    role = str(after(change).get("role") or "")
    if role in RUNNER_PROJECT_ROLES:
        return
    if role in BASIC_ROLES or role.lower().endswith("admin"):
        yield Hit(f"{change.name} grants {role} on the whole project")
        return
    yield Hit(
        f"{change.name} grants {role} on the whole project, beyond what the runner needs "
        f"({', '.join(sorted(RUNNER_PROJECT_ROLES)[:2])}...)",
        fix="grant it on the one resource that needs it (bucket, repository, service "
        "account), not the project",
        severity=Severity.WARNING,
    )


def _gcp_foreign_bucket(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    bucket = after(change).get("bucket")
    if bucket is None:
        return  # computed from a bucket of this stack (a literal name would be known)
    own = {after(b).get("name") for b in view.of_type("gcp:storage/bucket:Bucket")}
    if bucket not in own:
        yield Hit(
            f"{change.name} grants {after(change).get('role')} on bucket {bucket}, which this "
            "stack does not declare"
        )


def _k8s_role(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    for i, rule in enumerate(after(change).get("rules") or []):
        for field in ("verbs", "resources", "apiGroups"):
            if "*" in (rule.get(field) or []):
                yield Hit(f"{change.name} rule {i} allows '*' {field}")


def _k8s_cluster_wide(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    yield Hit(
        f"{change.name} is a {change.type.rsplit(':', 1)[-1]}: it grants access in every "
        "namespace, not only the stack's"
    )


def _k8s_binding(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    ref = after(change).get("roleRef") or {}
    if ref.get("kind") == "ClusterRole" and ref.get("name") in ("cluster-admin", "admin", "edit"):
        yield Hit(f"{change.name} binds the ClusterRole {ref['name']} in the stack's namespace")


RULES: tuple[Rule, ...] = (
    Rule(
        "iam-wildcard",
        Severity.ERROR,
        frozenset(AWS_POLICY_TYPES),
        "an IAM policy allowing '*' actions or '*' resources, or resources the stack does not own",
        "list the actions the runner needs and the stack's own resource ARNs",
        _aws_policy,
        needs={t: ("policy",) for t in AWS_POLICY_TYPES},
    ),
    Rule(
        "iam-managed-policy",
        Severity.WARNING,
        frozenset(AWS_ATTACHMENTS),
        "an AWS-managed policy attached to a role (administrator ones are errors)",
        "detach AdministratorAccess/PowerUserAccess/IAMFullAccess; grant named actions on the "
        "stack's resources",
        _aws_attachment,
    ),
    Rule(
        "iam-project-role",
        Severity.ERROR,
        frozenset(GCP_PROJECT_IAM),
        "a project-level GCP role beyond what the runner and GKE nodes need",
        "grant the narrowest predefined role on the resource itself (bucket, repository) "
        "instead of the project",
        _gcp_project_role,
    ),
    Rule(
        "iam-foreign-resource",
        Severity.WARNING,
        frozenset(GCS_BUCKET_IAM),
        "a GCP grant on a bucket the stack does not declare",
        "grant access to the stack's own bucket, or declare that bucket in the stack",
        _gcp_foreign_bucket,
    ),
    Rule(
        "rbac-wildcard",
        Severity.ERROR,
        frozenset(K8S_ROLES),
        "a Kubernetes Role with '*' verbs, resources or API groups",
        "list the verbs and resources the runner needs (jobs, pods, pods/log)",
        _k8s_role,
    ),
    Rule(
        "rbac-cluster-wide",
        Severity.WARNING,
        frozenset(K8S_CLUSTER_WIDE),
        "a ClusterRole or ClusterRoleBinding: access beyond the stack's namespace",
        "use a namespaced Role and RoleBinding",
        _k8s_cluster_wide,
    ),
    Rule(
        "rbac-admin-binding",
        Severity.ERROR,
        frozenset(K8S_BINDINGS),
        "a RoleBinding to cluster-admin, admin or edit",
        "bind a Role listing the verbs and resources the runner needs",
        _k8s_binding,
    ),
)
