"""Replace or update: the offline planner's verdict per changed input, from the SDKs' own text.

The cases are the ones a real ``pulumi up`` decides differently from a hand list: each row says
what the provider does and the SDK sentence (in ``replace_on.json``) that says so. Pure: the
desired and recorded resources are built directly (no program, no mocks needed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowyml.core.plan import CREATE_BEFORE_DELETE, REPLACE, UPDATE, Action
from flowyml.provision.mock_eval import EvaluatedResource, Evaluation
from flowyml.provision.offline import RecordedResource, diff, replace_triggers

PREFIX = "urn:pulumi:dev::proj::"

CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], tuple[str, ...]]] = [
    # (case, type, before, after, replace paths: () means an in-place update)
    (
        "Cloud SQL major version upgrade runs in place",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"name": "m", "databaseVersion": "POSTGRES_15", "region": "us-central1"},
        {"name": "m", "databaseVersion": "POSTGRES_16", "region": "us-central1"},
        (),
    ),
    (
        "Cloud SQL edition change runs in place",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"name": "m", "settings": {"tier": "db-f1-micro", "edition": "ENTERPRISE"}},
        {"name": "m", "settings": {"tier": "db-custom-2-7680", "edition": "ENTERPRISE"}},
        (),
    ),
    (
        "Cloud SQL instance renamed is a new instance",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"name": "m1", "databaseVersion": "POSTGRES_15"},
        {"name": "m2", "databaseVersion": "POSTGRES_15"},
        ("name",),
    ),
    (
        "autoscaled GKE pool: initialNodeCount forces recreation",
        "gcp:container/nodePool:NodePool",
        {"name": "gpu", "initialNodeCount": 1, "autoscaling": {"minNodeCount": 0}},
        {"name": "gpu", "initialNodeCount": 2, "autoscaling": {"minNodeCount": 0}},
        ("initialNodeCount",),
    ),
    (
        "GKE pool: nodeCount resizes in place",
        "gcp:container/nodePool:NodePool",
        {"name": "cpu", "nodeCount": 1},
        {"name": "cpu", "nodeCount": 3},
        (),
    ),
    (
        "ServiceAccount moved to another namespace",
        "kubernetes:core/v1:ServiceAccount",
        {"metadata": {"name": "runner", "namespace": "a"}},
        {"metadata": {"name": "runner", "namespace": "b"}},
        ("metadata.namespace",),
    ),
    (
        "Role renamed",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        {"metadata": {"name": "jobs", "namespace": "a"}, "rules": []},
        {"metadata": {"name": "jobs2", "namespace": "a"}, "rules": []},
        ("metadata.name",),
    ),
    (
        "RoleBinding roleRef is immutable",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r1"}},
        {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r2"}},
        ("roleRef",),
    ),
    (
        "Namespace label change is an update",
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "flowyml", "labels": {"a": "1"}}},
        {"metadata": {"name": "flowyml", "labels": {"a": "2"}}},
        (),
    ),
    (
        "PVC label change is an update",
        "kubernetes:core/v1:PersistentVolumeClaim",
        {"metadata": {"name": "c", "namespace": "n", "labels": {}}, "spec": {}},
        {"metadata": {"name": "c", "namespace": "n", "labels": {"x": "y"}}, "spec": {}},
        (),
    ),
    (
        "nested trigger: another EKS endpoint setting under vpcConfig is an update",
        "aws:eks/cluster:Cluster",
        {"name": "c", "vpcConfig": {"subnetIds": ["s1"], "endpointPublicAccess": True}},
        {"name": "c", "vpcConfig": {"subnetIds": ["s1"], "endpointPublicAccess": False}},
        (),
    ),
    (
        "nested trigger kept whole: a GKE pool's subnetwork is immutable",
        "gcp:container/nodePool:NodePool",
        {"name": "p", "networkConfig": {"subnetwork": "a", "enablePrivateNodes": False}},
        {"name": "p", "networkConfig": {"subnetwork": "b", "enablePrivateNodes": False}},
        ("networkConfig.subnetwork",),
    ),
    (
        "nested trigger not hit: another networkConfig field is an update",
        "gcp:container/nodePool:NodePool",
        {"name": "p", "networkConfig": {"subnetwork": "a", "enablePrivateNodes": False}},
        {"name": "p", "networkConfig": {"subnetwork": "a", "enablePrivateNodes": True}},
        (),
    ),
    (
        "RDS storage encryption cannot be switched in place",
        "aws:rds/instance:Instance",
        {"identifier": "m", "storageEncrypted": False},
        {"identifier": "m", "storageEncrypted": True},
        ("storageEncrypted",),
    ),
    (
        "S3 bucket renamed",
        "aws:s3/bucket:Bucket",
        {"bucket": "a", "forceDestroy": False},
        {"bucket": "b", "forceDestroy": False},
        ("bucket",),
    ),
]


def _plan(
    type_token: str, before: dict[str, Any], after: dict[str, Any], *, first: bool = False
) -> Any:
    urn = f"{PREFIX}{type_token}::r"
    desired = EvaluatedResource(
        urn=urn, type=type_token, name="r", inputs=after, delete_before_replace=first
    )
    old = RecordedResource(
        urn=urn, type=type_token, inputs=before, defaults=frozenset(), secret_inputs=(), parent=None
    )
    plan = diff(Evaluation(project="proj", stack="dev", resources=(desired,)), [old], stack="dev")
    return plan.changes[0]


@pytest.mark.parametrize(
    ("type_token", "before", "after", "paths"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_replace_or_update(
    type_token: str, before: dict[str, Any], after: dict[str, Any], paths: tuple[str, ...]
) -> None:
    change = _plan(type_token, before, after)
    assert change.replace_paths == paths
    assert change.actions == (CREATE_BEFORE_DELETE if paths else UPDATE)
    for path in paths:
        assert replace_triggers(type_token)[path]  # each path says where it comes from


def test_a_resource_asking_delete_before_replace_is_deleted_first() -> None:
    change = _plan("aws:s3/bucket:Bucket", {"bucket": "a"}, {"bucket": "b"}, first=True)
    assert change.actions == REPLACE
    assert change.actions[0] == Action.DELETE


def test_unset_or_unknown_trigger_values_are_not_a_replace() -> None:
    # The program leaves the namespace to the provider default, and the name is unknown.
    from flowyml.provision._wire import UNKNOWN

    change = _plan(
        "kubernetes:core/v1:ServiceAccount",
        {"metadata": {"name": "runner", "namespace": "a", "labels": {}}},
        {"metadata": {"name": UNKNOWN, "labels": {"x": "1"}}},
    )
    assert change.actions == UPDATE and change.replace_paths == ()


def test_the_data_file_matches_the_installed_sdks() -> None:
    """Regenerating from the installed SDKs gives the committed file (else: run the generator)."""
    pytest.importorskip("pulumi_gcp", reason="pulumi-gcp is not installed")
    pytest.importorskip("pulumi_aws", reason="pulumi-aws is not installed")
    pytest.importorskip("pulumi_kubernetes", reason="pulumi-kubernetes is not installed")
    pytest.importorskip("pulumi_random", reason="pulumi-random is not installed")
    from flowyml.provision import replace_gen

    committed = json.loads(replace_gen.DATA_FILE.read_text(encoding="utf-8"))
    assert committed == json.loads(replace_gen.render(replace_gen.generate())), (
        "replace_on.json is stale: run `python -m flowyml.provision.replace_gen`"
    )
