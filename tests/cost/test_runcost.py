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
