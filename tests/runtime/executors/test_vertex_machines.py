"""Vertex AI worker machines from ResourceConfig, and what is refused before anything runs:
a GPU on a machine family it does not attach to, a GPU a region does not offer, an unknown size;
the request built with aiplatform's own types (a wrong enum fails there)."""

from __future__ import annotations

import pytest

from flowyml.runtime.executors.vertex_machines import (
    MachineRefused,
    accelerator_type,
    machine_problem,
    worker_machine,
)


@pytest.mark.parametrize(
    ("resources", "machine", "gpu", "count"),
    [
        (None, "n1-standard-4", None, 0),
        ({"cpu": "8", "memory": "32Gi"}, "n2-standard-8", None, 0),
        ({"cpu": "4", "gpu": "t4", "gpu_count": 1}, "n1-highcpu-4", "nvidia-tesla-t4", 1),
        (
            {"machine_type": "n1-highmem-16", "gpu": "nvidia-tesla-v100", "gpu_count": 4},
            "n1-highmem-16",
            "nvidia-tesla-v100",
            4,
        ),
        ({"gpu": "nvidia-tesla-a100", "gpu_count": 2}, "a2-highgpu-2g", "nvidia-tesla-a100", 2),
        ({"machine_type": "a2-highgpu-4g"}, "a2-highgpu-4g", "nvidia-tesla-a100", 4),
    ],
)
def test_the_worker_machine(
    resources: dict[str, object] | None, machine: str, gpu: str | None, count: int
) -> None:
    found = worker_machine(resources, "us-central1")
    assert (found.machine_type, found.accelerator, found.accelerator_count) == (machine, gpu, count)


@pytest.mark.parametrize(
    ("resources", "region", "said"),
    [
        (
            {"machine_type": "e2-standard-4", "gpu": "nvidia-tesla-v100", "gpu_count": 1},
            "us-central1",
            "does not attach to machine_type e2-standard-4",
        ),
        (
            {"machine_type": "a2-highgpu-1g", "gpu": "nvidia-tesla-t4", "gpu_count": 1},
            "us-central1",
            "carries its own nvidia-tesla-a100 GPUs",
        ),
        (
            {"machine_type": "a2-highgpu-1g", "gpu": "nvidia-tesla-a100", "gpu_count": 2},
            "us-central1",
            "has 1 nvidia-tesla-a100 GPU(s), fewer than gpu_count=2",
        ),
        (
            {"gpu": "nvidia-tesla-v100", "gpu_count": 1},
            "us-east1",
            "not offered in region us-east1",
        ),
        ({"machine_type": "n1-standard-5"}, "us-central1", "not a size of the n1-standard family"),
        (
            {"gpu": "nvidia-l4", "gpu_count": 1},
            "us-central1",
            "comes only with its own machine family",
        ),
    ],
)
def test_what_vertex_cannot_run_is_refused_with_a_fix(
    resources: dict[str, object], region: str, said: str
) -> None:
    problem = machine_problem(resources, region)
    assert problem is not None and said in problem[0], problem
    assert problem[1]  # every refusal says how to fix it
    with pytest.raises(MachineRefused):
        worker_machine(resources, region)


def test_gpu_names_map_to_aiplatform_accelerator_types() -> None:
    from google.cloud.aiplatform_v1 import types

    for name in ("nvidia-tesla-v100", "nvidia-l4", "nvidia-tesla-a100", "T4", "nvidia-tesla-p100"):
        assert hasattr(types.AcceleratorType, accelerator_type(name)), name
    assert accelerator_type("nvidia-tesla-v100") == "NVIDIA_TESLA_V100"
    assert not hasattr(types.AcceleratorType, accelerator_type("nvidia-imaginary-9000"))
