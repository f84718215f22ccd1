"""A standard plan shape for pricing and rendering tests: create, in-place tier change,
replace, delete (of a data-bearing bucket), a free resource, an unknown type and a no-op."""

from __future__ import annotations

import pytest

from flowyml.core.plan import CREATE, DELETE, NOOP, REPLACE, UPDATE, Plan, ResourceChange

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
POOL = "gcp:container/nodePool:NodePool"


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:prod::flowyml::{type_token}::{name}"


def standard_plan() -> Plan:
    """The standard plan (a plain function, so scripts and tests can build it too)."""
    sql_before = {"region": "us-central1", "settings": {"tier": "db-f1-micro", "diskSize": 10}}
    sql_after = {"region": "us-central1", "settings": {"tier": "db-g1-small", "diskSize": 10}}
    pool_before = {
        "location": "us-central1-a",
        "nodeCount": 1,
        "nodeConfig": {"machineType": "e2-standard-4", "diskSizeGb": 0},
    }
    pool_after = {
        "location": "us-central1-a",
        "nodeCount": 1,
        "nodeConfig": {"machineType": "n1-standard-4", "diskSizeGb": 0},
    }
    changes = (
        ResourceChange(
            urn("gcp:container/cluster:Cluster", "gke"),
            "gcp:container/cluster:Cluster",
            "gke",
            CREATE,
            after={"location": "us-central1", "removeDefaultNodePool": True},
        ),
        ResourceChange(
            urn(SQL, "metadata"),
            SQL,
            "metadata",
            UPDATE,
            before=sql_before,
            after=sql_after,
            diff_keys=("settings",),
            data_bearing=True,
        ),
        ResourceChange(
            urn(POOL, "cpu"),
            POOL,
            "cpu",
            REPLACE,
            before=pool_before,
            after=pool_after,
            replace_paths=("nodeConfig.machineType",),
        ),
        ResourceChange(
            urn("gcp:storage/bucket:Bucket", "old|data"),
            "gcp:storage/bucket:Bucket",
            "old|data",
            DELETE,
            before={"location": "US-CENTRAL1"},
            data_bearing=True,
        ),
        ResourceChange(
            urn("gcp:serviceaccount/account:Account", "runner"),
            "gcp:serviceaccount/account:Account",
            "runner",
            CREATE,
            after={"accountId": "flowyml-runner"},
        ),
        ResourceChange(
            urn("gcp:compute/routerNat:RouterNat", "nat"),
            "gcp:compute/routerNat:RouterNat",
            "nat",
            CREATE,
            after={"region": "us-central1"},
        ),
        ResourceChange(
            urn("gcp:projects/service:Service", "api"),
            "gcp:projects/service:Service",
            "api",
            NOOP,
            before={"service": "sqladmin.googleapis.com"},
            after={"service": "sqladmin.googleapis.com"},
        ),
    )
    return Plan(stack="prod", operation="preview", engine="offline", changes=changes)


@pytest.fixture
def plan() -> Plan:
    return standard_plan()
