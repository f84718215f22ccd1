"""The offline planner: programs under Pulumi mocks (no engine can run here) diffed against
hand-written checkpoints in the file backend's real JSON shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowyml.core.plan import CREATE, CREATE_BEFORE_DELETE, DELETE, NOOP, UPDATE, Action
from flowyml.provision.errors import StateError
from flowyml.provision.mock_eval import evaluate_program
from flowyml.provision.offline import OfflinePlanner, diff, find_checkpoint, read_checkpoint

pytest.importorskip("pulumi_gcp", reason="the pulumi-gcp SDK is not installed")

SECRET = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "ciphertext": "v1:abc",
}
PREFIX = "urn:pulumi:dev::proj::"


def _program() -> None:
    import pulumi
    from pulumi_gcp import artifactregistry, sql, storage

    storage.Bucket("artifacts", name="b1", location="US", uniform_bucket_level_access=True)
    instance = sql.DatabaseInstance(
        "metadata",
        database_version="POSTGRES_15",
        region="us-central1",
        settings={"tier": "db-custom-1-3840"},
    )
    sql.User("user", name="flowyml", instance=instance.name, password=pulumi.Output.secret("pw"))
    artifactregistry.Repository(
        "registry", repository_id="flowyml", location="europe-west1", format="DOCKER"
    )


def _resource(type_: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "urn": f"{PREFIX}{type_}::{name}",
        "custom": True,
        "type": type_,
        "inputs": inputs,
        **extra,
    }


def _checkpoint(path: Path, resources: list[dict[str, Any]]) -> Path:
    stack_res = {
        "urn": f"{PREFIX}pulumi:pulumi:Stack::proj-dev",
        "custom": False,
        "type": "pulumi:pulumi:Stack",
    }
    provider = {
        "urn": f"{PREFIX}pulumi:providers:gcp::default_7_0_0",
        "custom": True,
        "type": "pulumi:providers:gcp",
    }
    doc = {
        "version": 3,
        "checkpoint": {
            "stack": "dev",
            "latest": {"manifest": {}, "resources": [stack_res, provider, *resources]},
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_create_update_replace_delete_by_urn(tmp_path: Path) -> None:
    checkpoint = _checkpoint(
        tmp_path / "dev.json",
        [
            # Unchanged, apart from a provider default the program does not set.
            _resource(
                "gcp:storage/bucket:Bucket",
                "artifacts",
                {
                    "__defaults": ["forceDestroy"],
                    "forceDestroy": False,
                    "name": "b1",
                    "location": "US",
                    "uniformBucketLevelAccess": True,
                },
            ),
            # Tier changed: an in-place update.
            _resource(
                "gcp:sql/databaseInstance:DatabaseInstance",
                "metadata",
                {
                    "databaseVersion": "POSTGRES_15",
                    "region": "us-central1",
                    "settings": {"tier": "db-f1-micro"},
                },
            ),
            # Location changed: the repository must be replaced.
            _resource(
                "gcp:artifactregistry/repository:Repository",
                "registry",
                {"repositoryId": "flowyml", "location": "us-central1", "format": "DOCKER"},
            ),
            # No longer declared: deleted. Same display name as a declared resource of another type.
            _resource("gcp:storage/bucket:Bucket", "user", {"name": "old", "location": "US"}),
            # An old copy pending deletion is not the live resource.
            _resource("gcp:sql/user:User", "gone", {"name": "x"}, delete=True),
        ],
    )
    plan = diff(
        evaluate_program(_program, project="proj", stack="dev"),
        read_checkpoint(checkpoint),
        stack="dev",
    )
    by = plan.by_address()
    assert by[f"{PREFIX}gcp:storage/bucket:Bucket::artifacts"].actions == NOOP
    instance = by[f"{PREFIX}gcp:sql/databaseInstance:DatabaseInstance::metadata"]
    assert instance.actions == UPDATE and instance.diff_keys == ("settings",)
    registry = by[f"{PREFIX}gcp:artifactregistry/repository:Repository::registry"]
    assert registry.actions == CREATE_BEFORE_DELETE and registry.replace_paths == ("location",)
    assert registry.data_bearing
    user = by[f"{PREFIX}gcp:sql/user:User::user"]
    assert user.actions == CREATE
    assert user.after is not None and user.after["password"] == "[secret]"
    assert user.sensitive == ("password",)
    old_bucket = by[f"{PREFIX}gcp:storage/bucket:Bucket::user"]
    assert old_bucket.actions == DELETE and old_bucket.data_bearing and old_bucket.after is None
    assert f"{PREFIX}gcp:sql/user:User::gone" not in by
    assert all(c.type not in ("pulumi:pulumi:Stack", "pulumi:providers:gcp") for c in plan.changes)
    assert (
        plan.summary.create,
        plan.summary.update,
        plan.summary.replace,
        plan.summary.delete,
    ) == (1, 1, 1, 1)
    assert plan.engine == "offline"
    # Deleting the old bucket and replacing the registry both lose data.
    assert {c.address for c in plan.data_loss()} == {old_bucket.address, registry.address}


def test_secret_in_checkpoint_compares_as_secret(tmp_path: Path) -> None:
    def program() -> None:
        import pulumi
        from pulumi_gcp import sql

        sql.User("user", name="flowyml", instance="i", password=pulumi.Output.secret("new"))

    checkpoint = _checkpoint(
        tmp_path / "dev.json",
        [
            _resource(
                "gcp:sql/user:User",
                "user",
                {"name": "flowyml", "instance": "i", "password": SECRET},
            )
        ],
    )
    plan = diff(
        evaluate_program(program, project="proj", stack="dev"),
        read_checkpoint(checkpoint),
        stack="dev",
    )
    (change,) = plan.changes
    assert change.actions == NOOP
    assert change.before == {"name": "flowyml", "instance": "i", "password": "[secret]"}
    assert "v1:abc" not in json.dumps(plan.to_dict())


def test_unreadable_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "dev.json"
    bad.write_text("{")
    with pytest.raises(StateError, match="cannot read the Pulumi checkpoint"):
        read_checkpoint(bad)


def test_stack_export_shape_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            {
                "version": 3,
                "deployment": {"resources": [_resource("gcp:sql/user:User", "u", {"name": "n"})]},
            }
        )
    )
    (only,) = read_checkpoint(path)
    assert only.urn == f"{PREFIX}gcp:sql/user:User::u"


def _gcp_stack(**overrides: Any) -> Any:
    from flowyml.stacks.gcp import GCPStack

    return GCPStack(name="prod", project_id="p1", bucket_name="b1", **overrides)


def test_planner_on_a_gcp_stack_with_its_own_checkpoint(project: Path) -> None:
    planner = OfflinePlanner()
    stack = _gcp_stack()
    first = planner.preview(stack)
    assert first.changes and all(c.actions == CREATE for c in first.changes)
    assert any("no recorded state" in d for d in first.diagnostics)

    # Record the evaluation as the file backend would, then plan again: nothing to do.
    evaluation = planner.evaluate(stack)
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "custom": r.custom,
            "inputs": {k: (SECRET if k in r.secret_inputs else v) for k, v in r.inputs.items()},
            "parent": r.parent,
        }
        for r in evaluation.resources
    ]
    path = project / ".flowyml" / "pulumi" / ".pulumi" / "stacks" / "flowyml" / "prod.json"
    _checkpoint(path, resources)
    assert find_checkpoint(stack) == path
    again = planner.preview(stack)
    assert not again.has_changes, [c.address for c in again.changes if not c.is_noop]

    # A bigger database tier is an in-place update of the instance, matched by URN.
    bigger = planner.preview(_gcp_stack(database={"tier": "db-custom-2-7680"}))
    changed = [c for c in bigger.changes if not c.is_noop]
    assert [c.type for c in changed] == ["gcp:sql/databaseInstance:DatabaseInstance"]
    assert changed[0].actions == UPDATE


def test_computed_values_are_unknown_so_a_real_checkpoint_shows_no_change(project: Path) -> None:
    """After a real `up`, ids and ARNs in the checkpoint are the provider's; the offline plan
    must neither invent other values for them nor report the resources as changed."""
    from flowyml.stacks.aws import AWSStack

    stack = AWSStack(name="prod", s3_bucket="my-artifacts")
    planner = OfflinePlanner()
    evaluation = planner.evaluate(stack)
    role_policy = evaluation.get("runner-artifacts")
    assert set(role_policy.unknown_inputs) == {"policy", "role"}
    assert evaluation.get("artifacts-versioning").unknown_inputs == ("bucket",)
    # What the provider really recorded for the values the program could not know.
    real = {
        "role": "flowyml-runner",
        "bucket": "my-artifacts",
        "finalSnapshotIdentifier": "prod-metadata-final-a1b2c3",
        "policy": '{"Version": "2012-10-17", "Statement": []}',
        "password": SECRET,
    }
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "custom": r.custom,
            "inputs": {
                **{k: v for k, v in r.inputs.items() if v is not None},
                **{k: real[k] for k in r.unknown_inputs},
            },
        }
        for r in evaluation.resources
    ]
    path = project / ".flowyml" / "pulumi" / ".pulumi" / "stacks" / "flowyml" / "prod.json"
    _checkpoint(path, resources)

    plan = planner.preview(stack)

    assert not plan.has_changes, [(c.name, c.diff_keys) for c in plan.changes if not c.is_noop]
    change = next(c for c in plan.changes if c.name == "runner-artifacts")
    assert change.before is not None and change.before["role"] == "flowyml-runner"
    assert "runner-id" not in json.dumps([c.after for c in plan.changes])


def _service_program() -> None:
    from pulumi_gcp import projects

    projects.Service("api-storage", project="p1", service="storage.googleapis.com")


def test_a_service_is_replaced_delete_first(tmp_path: Path) -> None:
    """An enabled API has a fixed identity (project + service): the old one must go before the
    new one is created, unlike the create-before-delete default."""
    checkpoint = _checkpoint(
        tmp_path / "dev.json",
        [
            _resource(
                "gcp:projects/service:Service",
                "api-storage",
                {"project": "p1", "service": "storage-component.googleapis.com"},
            )
        ],
    )
    plan = diff(
        evaluate_program(_service_program, project="proj", stack="dev"),
        read_checkpoint(checkpoint),
        stack="dev",
    )
    (change,) = plan.changes
    assert change.actions == (Action.DELETE, Action.CREATE)
    assert change.replace_paths == ("service",)
    assert change.symbol == "-/+"
