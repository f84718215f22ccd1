"""ResourceConfig -> container limits (the keyword arguments the Docker SDK takes)."""

from __future__ import annotations

import pytest

from flowyml.runtime.executors.docker import _limits


def test_cpu_and_memory_become_a_quota_and_a_swapless_limit() -> None:
    assert _limits({"cpu": "500m", "memory": "64Mi"}) == {
        "nano_cpus": 500_000_000,
        "mem_limit": 64 * 2**20,
        "memswap_limit": 64 * 2**20,
    }
    assert _limits({"cpu": "2"})["nano_cpus"] == 2_000_000_000


@pytest.mark.parametrize(
    ("resources", "count"),
    [({"gpu": "nvidia-l4", "gpu_count": 2}, 2), ({"gpu": "nvidia-l4"}, 1), ({"gpu_count": 1}, 1)],
)
def test_gpus_become_a_device_request(resources: dict[str, object], count: int) -> None:
    (request,) = _limits(resources)["device_requests"]
    assert request["Count"] == count and request["Capabilities"] == [["gpu"]]


def test_nothing_declared_sets_no_limit() -> None:
    assert _limits(None) == {} and _limits({}) == {}
