"""Run cost: hourly price from a step's resources and executor, and step cost."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from flowyml.cost import hourly_price, step_cost

D = Decimal


@dataclass
class ResourceConfigLike:
    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    gpu_count: int = 0
    machine_type: str | None = None
    preemptible: bool = False


@pytest.mark.parametrize(
    ("resources", "kind", "region", "expected"),
    [
        (None, "local", None, D(0)),
        ({"machine_type": "n1-standard-4"}, "local", None, D(0)),
        ({"machine_type": "n1-standard-4"}, "kubernetes", "us-central1", D("0.189999")),
        (
            {"machine_type": "n1-standard-4", "gpu": "T4", "gpu_count": 2},
            "kubernetes",
            None,
            D("0.889999"),
        ),
        ({"machine_type": "n1-standard-4"}, "vertex", "us-central1", D("0.189999") * D("1.15")),
        (
            {"machine_type": "n1-standard-4", "preemptible": True},
            "remote",
            None,
            D("0.189999") * D("0.4"),
        ),
        (
            {"machine_type": "a2-highgpu-1g", "gpu": "a100", "gpu_count": 1},
            "kubernetes",
            None,
            D("3.673385"),
        ),
        (
            {"cpu": "2", "memory": "8Gi"},
            "kubernetes",
            "us-central1",
            2 * D("0.031611") + 8 * D("0.004237"),
        ),
        (
            {"cpu": "500m", "memory": "1024Mi"},
            "kubernetes",
            None,
            D("0.5") * D("0.031611") + D("0.004237"),
        ),
        ({"machine_type": "m5.large"}, "kubernetes", "us-east-1", D("0.096")),
        ({"cpu": "2", "memory": "8Gi"}, "kubernetes", "us-east-1", D("0.0832")),  # t3.large fits
        (
            {"cpu": "4", "memory": "16Gi", "gpu": "T4"},
            "kubernetes",
            "us-east-1",
            D("0.526"),
        ),  # g4dn.xlarge
        (ResourceConfigLike(machine_type="e2-standard-4"), "kubernetes", None, D("0.134012")),
    ],
)
def test_hourly_price(resources: object, kind: str, region: str | None, expected: Decimal) -> None:
    assert hourly_price(resources, kind, region) == expected


@pytest.mark.parametrize(
    ("resources", "kind", "region"),
    [
        (None, "vertex", None),
        ({"machine_type": "zz-huge-9"}, "kubernetes", None),
        ({"machine_type": "n1-standard-4"}, "kubernetes", "mars-1"),
        ({"machine_type": "n1-standard-4", "gpu": "H200", "gpu_count": 1}, "kubernetes", None),
        ({}, "kubernetes", None),
    ],
)
def test_unknown_hourly_is_none(resources: object, kind: str, region: str | None) -> None:
    assert hourly_price(resources, kind, region) is None


def test_step_cost() -> None:
    assert step_cost(D("0.36"), 1800) == D("0.18")
    assert step_cost(D(0), 3600) == 0
    assert step_cost(None, 60) is None
    assert step_cost(D(1), None) is None


def test_run_step_costs_price_each_recorded_step_by_its_stack() -> None:
    from datetime import datetime, timedelta, timezone

    from flowyml.core.records import StepRecord, StepStatus
    from flowyml.cost import hourly_price, run_step_costs
    from flowyml.stacks import LocalStack
    from flowyml.stacks.gcp import GCPStack

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    vertex = GCPStack(name="prod", project_id="my-project-123", bucket_name="my-bucket-123")
    stacks = {"local": LocalStack(), "prod": vertex}

    def record(name: str, stack: str, **extra: object) -> StepRecord:
        fields: dict[str, object] = {
            "run_id": "r1",
            "name": name,
            "status": StepStatus.COMPLETED,
            "started_at": start,
            "ended_at": start + timedelta(hours=1),
            "stack": stack,
        }
        fields.update(extra)
        return StepRecord(**fields)  # type: ignore[arg-type]

    steps = [
        record("prep", "local"),
        record("train", "prod", resources={"machine_type": "n1-standard-4"}),
        record("again", "prod", resources={"machine_type": "n1-standard-4"}, cached=True),
        record("gone", "deleted-stack"),
        record("never", "prod", started_at=None, ended_at=None, status=StepStatus.SKIPPED),
    ]
    costs = run_step_costs(steps, stacks.get)
    vertex_hourly = hourly_price({"machine_type": "n1-standard-4"}, "vertex_ai", "us-central1")
    assert vertex_hourly is not None and vertex_hourly > 0
    assert costs == {
        "prep": Decimal(0),
        "train": vertex_hourly,  # one hour
        "again": Decimal(0),
        "gone": None,
        "never": Decimal(0),
    }
