"""Engine events -> Plan, checked on real Pulumi engine event logs (pure parsing: no engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.core.plan import CREATE, CREATE_BEFORE_DELETE, DELETE, NOOP, REPLACE, UPDATE, Plan
from flowyml.provision.events import (
    PlanBuilder,
    iter_progress,
    plan_from_events,
    progress_of,
    read_event_log,
)
from flowyml.provision.resource_kinds import is_data_bearing

SECRET = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "value": "hunter2",
}


def _plan(events_dir: Path, name: str, operation: str = "up") -> Plan:
    return plan_from_events(read_event_log(events_dir / name), stack="s", operation=operation)


def _by_verb(plan: Plan) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for change in plan.changes:
        out.setdefault(change.verb, set()).add(
            change.address.rsplit("::", 2)[-2] + "::" + change.name
        )
    return out


def test_every_fixture_parses(events_dir: Path) -> None:
    files = sorted(events_dir.glob("*.jsonl"))
    assert len(files) >= 6
    for path in files:
        plan = plan_from_events(read_event_log(path), stack="s", operation="up")
        # The root stack is never a change.
        assert all(c.type != "pulumi:pulumi:Stack" for c in plan.changes), path.name


def test_up_interrupted_creates_update_and_cancel(events_dir: Path) -> None:
    plan = _plan(events_dir, "up-interrupted.jsonl")
    verbs = _by_verb(plan)
    assert verbs["create"] == {
        "aws:s3/bucket:Bucket::completed-bucket",
        "my:component:WebService::interrupted-component",
        "aws:ec2/instance:Instance::interrupted-instance",
    }
    assert verbs["update"] == {"aws:rds/instance:Instance::interrupted-db"}
    assert plan.cancelled is True
    assert plan.failed == ()
    db = next(c for c in plan.changes if c.name == "interrupted-db")
    assert db.before == {"instanceClass": "db.t3.micro"}
    assert db.after == {"instanceClass": "db.t3.small"}
    assert db.diff_keys == ("instanceClass",)
    assert db.data_bearing
    bucket = next(c for c in plan.changes if c.name == "completed-bucket")
    assert bucket.actions == CREATE and bucket.before is None and bucket.data_bearing
    instance = next(c for c in plan.changes if c.name == "interrupted-instance")
    assert (
        instance.parent
        == "urn:pulumi:dev::myproject::my:component:WebService::interrupted-component"
    )
    assert any("cancelled" in d for d in plan.diagnostics)


def test_up_5_two_creates_among_sames(events_dir: Path) -> None:
    plan = _plan(events_dir, "up-5.jsonl")
    assert _by_verb(plan)["create"] == {"aws:eks/cluster:Cluster::eks-cluster"}
    assert plan.summary.create == 1 and plan.summary.same == 4
    assert not plan.cancelled and plan.failed == ()


def test_up_4_update_with_detailed_diff(events_dir: Path) -> None:
    plan = _plan(events_dir, "up-4.jsonl")
    (sg,) = [c for c in plan.changes if not c.is_noop]
    assert sg.actions == UPDATE
    assert sg.name == "eks-sg"
    assert sg.diff_keys == ("ingress",)
    assert sg.before is not None and "__defaults" not in sg.before
    assert plan.summary.same == 4


def test_webserver_replace_collapses_to_one_change(events_dir: Path) -> None:
    plan = _plan(events_dir, "webserver-userdata.jsonl")
    replaced = [c for c in plan.changes if c.is_replace]
    assert len(replaced) == 1
    (change,) = replaced
    assert change.name == "web-server-www"
    # Pulumi created the replacement before deleting the original: create-before-delete.
    assert change.actions == CREATE_BEFORE_DELETE
    assert change.symbol == "+/-"
    assert change.replace_paths == ("userData",)
    assert change.before is not None and change.after is not None
    assert plan.summary.replace == 1 and plan.summary.same == 1


def test_destroy_with_components(events_dir: Path) -> None:
    plan = _plan(events_dir, "destroy-with-components.jsonl", operation="destroy")
    assert {c.name: c.actions for c in plan.changes} == {"mychild": DELETE, "mycomponent": DELETE}
    child = plan.by_address()["urn:pulumi:dev::myproject::my:component:Child::mychild"]
    assert child.parent == "urn:pulumi:dev::myproject::my:component:Component::mycomponent"
    assert child.after is None
    assert not plan.cancelled


def test_failed_update_is_recorded(events_dir: Path) -> None:
    plan = _plan(events_dir, "failed-stacks-dont-rewrite-operations.jsonl")
    assert plan.failed == ("urn:pulumi:dev::test::pulumi-python:dynamic:Resource::test-x",)
    by_name = {c.name: c for c in plan.changes}
    assert by_name["test-x"].actions == UPDATE
    # A lone delete-replaced (left over from an earlier replace) deletes the old copy.
    assert by_name["test-r"].actions == DELETE
    # The engine's dynamic-provider bookkeeping key is not a user input.
    assert "__provider" not in (by_name["test-x"].before or {})
    assert not plan.cancelled
    assert any("refresh" in d for d in plan.diagnostics)


def _step(kind: str, op: str, urn: str, **extra: Any) -> dict[str, Any]:
    return {kind: {"metadata": {"op": op, "urn": urn, "type": "gcp:sql/user:User", **extra}}}


URN = "urn:pulumi:dev::p::gcp:sql/user:User::runner"


def test_delete_before_replace_order_gives_delete_create() -> None:
    events = [
        _step("resourcePreEvent", "delete-replaced", URN, old={"inputs": {"name": "a"}}),
        _step("resOutputsEvent", "delete-replaced", URN),
        _step(
            "resourcePreEvent",
            "replace",
            URN,
            old={"inputs": {"name": "a"}},
            new={"inputs": {"name": "b"}},
            keys=["name"],
        ),
        _step(
            "resourcePreEvent",
            "create-replacement",
            URN,
            old={"inputs": {"name": "a"}},
            new={"inputs": {"name": "b"}},
            keys=["name"],
        ),
        _step("resOutputsEvent", "create-replacement", URN),
        _step("resOutputsEvent", "replace", URN),
        {"cancelEvent": {}},
    ]
    plan = plan_from_events(events, stack="s", operation="up")
    (change,) = plan.changes
    assert change.actions == REPLACE
    assert change.after == {"name": "b"} and change.replace_paths == ("name",)
    assert not plan.cancelled


def test_secrets_are_masked_and_listed() -> None:
    events = [
        _step(
            "resourcePreEvent",
            "update",
            URN,
            old={"inputs": {"password": SECRET, "name": "runner", "__defaults": []}},
            new={"inputs": {"password": {**SECRET, "value": "new-pass"}, "name": "runner"}},
            diffs=["password"],
        ),
        _step("resOutputsEvent", "update", URN),
    ]
    plan = plan_from_events(events, stack="s", operation="up")
    (change,) = plan.changes
    assert change.before == {"password": "[secret]", "name": "runner"}
    assert change.after == {"password": "[secret]", "name": "runner"}
    assert change.sensitive == ("password",)
    assert "hunter2" not in repr(plan.to_dict()) and "new-pass" not in repr(plan.to_dict())


def test_unknowns_and_default_providers() -> None:
    provider = "urn:pulumi:dev::p::pulumi:providers:gcp::default_7_0_0"
    events = [
        {
            "resourcePreEvent": {
                "metadata": {"op": "create", "urn": provider, "type": "pulumi:providers:gcp"}
            }
        },
        _step(
            "resourcePreEvent",
            "create",
            URN,
            new={"inputs": {"instance": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}},
        ),
    ]
    plan = plan_from_events(events, stack="s", operation="preview")
    (change,) = plan.changes
    assert change.after == {"instance": None}
    assert change.after_unknown == ("instance",)


def test_live_builder_and_progress(events_dir: Path) -> None:
    events = read_event_log(events_dir / "webserver-userdata.jsonl")
    builder = PlanBuilder(stack="s", operation="up")
    for event in events[:6]:
        builder.feed(event)
    # Mid-stream: the replacement has started; the stream has not ended, so nothing is "cancelled".
    assert not builder.build().cancelled
    lines = [p.message for p in iter_progress(events)]
    assert "creating replacement aws:ec2/instance:Instance web-server-www" in lines
    assert "deleted original aws:ec2/instance:Instance web-server-www" in lines
    assert progress_of({"diagnosticEvent": {"severity": "debug", "message": "x"}}) is None
    diag = progress_of(
        {"diagnosticEvent": {"severity": "warning", "message": "<{%reset%}>careful\n"}}
    )
    assert diag is not None and diag.message == "warning: careful"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("gcp:storage/bucket:Bucket", True),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", False),
        ("gcp:sql/databaseInstance:DatabaseInstance", True),
        ("gcp:sql/user:User", False),
        ("gcp:artifactregistry/repository:Repository", True),
        ("aws:s3/bucketV2:BucketV2", True),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", False),
        ("aws:rds/instance:Instance", True),
        ("aws:ec2/instance:Instance", False),
        ("aws:ecr/repository:Repository", True),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", False),
        ("kubernetes:core/v1:PersistentVolumeClaim", True),
        ("kubernetes:core/v1:Namespace", False),
        ("flowyml:local:SqliteDatabase", True),
        ("not-a-token", False),
    ],
)
def test_data_bearing(token: str, expected: bool) -> None:
    assert is_data_bearing(token) is expected


def test_noop_actions_are_same() -> None:
    plan = plan_from_events(
        [_step("resourcePreEvent", "same", URN), _step("resOutputsEvent", "same", URN)],
        stack="s",
        operation="preview",
    )
    assert plan.changes[0].actions == NOOP and not plan.has_changes
