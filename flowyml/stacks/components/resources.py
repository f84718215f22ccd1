"""Compute resources a step or node pool asks for, with Kubernetes-style quantities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from flowyml.stacks.catalog import MACHINE_FAMILIES, MACHINE_TYPES, family_of
from flowyml.stacks.components._base import Component
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.quantities import GIB, format_bytes, parse_bytes, parse_cpu

__all__ = ["ResourceConfig"]


class ResourceConfig(Component):
    """CPU, memory, disk, GPUs and machine shape for a step or a node pool.

    Quantities are checked when the model is built (``"8"``, ``"500m"``, ``"32Gi"``); consistency
    (GPU count without a GPU, a machine type smaller than asked, autoscaling bounds) is reported by
    :meth:`problems`, which ``Stack.validate()`` calls.

    Attributes:
        cpu: Cores, e.g. ``"8"``, ``"0.5"``, ``"500m"``.
        memory: Bytes, e.g. ``"32Gi"``, ``"512Mi"``, ``"1G"``.
        disk_size: Bytes of disk, e.g. ``"100Gi"``.
        gpu: Accelerator type, e.g. ``"nvidia-tesla-v100"``.
        gpu_count: How many GPUs of that type.
        machine_type: Provider machine type, e.g. ``"n1-highmem-16"`` or ``"m5.xlarge"``.
        preemptible: Use preemptible / spot capacity.
        autoscaling: Scale node count between ``min_nodes`` and ``max_nodes``.
        min_nodes: Lower bound when autoscaling.
        max_nodes: Upper bound when autoscaling.
    """

    cpu: str | None = None
    memory: str | None = None
    disk_size: str | None = None
    gpu: str | None = None
    gpu_count: int = Field(default=0, ge=0)
    machine_type: str | None = None
    preemptible: bool = False
    autoscaling: bool = False
    min_nodes: int = Field(default=1, ge=0)
    max_nodes: int = Field(default=1, ge=1)

    @field_validator("cpu", "memory", "disk_size", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        # YAML gives `cpu: 8` as an int; quantities are kept as the text the user wrote.
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("cpu")
    @classmethod
    def _check_cpu(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cpu(value)
        return value

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bytes(value, "memory")
        return value

    @field_validator("disk_size")
    @classmethod
    def _check_disk(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bytes(value, "disk_size")
        return value

    def cpu_cores(self) -> Decimal | None:
        """Cores asked for, or ``None``."""
        return None if self.cpu is None else parse_cpu(self.cpu)

    def memory_bytes(self) -> int | None:
        """Memory asked for in bytes, or ``None``."""
        return None if self.memory is None else parse_bytes(self.memory, "memory")

    def disk_bytes(self) -> int | None:
        """Disk asked for in bytes, or ``None``."""
        return None if self.disk_size is None else parse_bytes(self.disk_size, "disk_size")

    def problems(self, path: str = "resources") -> list[ValidationProblem]:
        """Consistency problems (each with the field path under ``path``)."""
        found: list[ValidationProblem] = []
        if self.gpu_count > 0 and not self.gpu:
            found.append(
                ValidationProblem(
                    f"{path}.gpu_count",
                    f"gpu_count is {self.gpu_count} but no gpu type is set",
                    "set gpu, e.g. gpu='nvidia-tesla-t4'",
                )
            )
        if self.gpu and self.gpu_count == 0:
            found.append(
                ValidationProblem(
                    f"{path}.gpu",
                    f"gpu is {self.gpu!r} but gpu_count is 0",
                    "set gpu_count to 1 or more, or remove gpu",
                )
            )
        if self.min_nodes > self.max_nodes:
            found.append(
                ValidationProblem(
                    f"{path}.min_nodes",
                    f"min_nodes ({self.min_nodes}) is greater than max_nodes ({self.max_nodes})",
                    "make min_nodes <= max_nodes",
                )
            )
        if not self.autoscaling and (self.min_nodes, self.max_nodes) != (1, 1):
            found.append(
                ValidationProblem(
                    f"{path}.autoscaling",
                    "min_nodes/max_nodes are set but autoscaling is off",
                    "set autoscaling=True, or remove min_nodes/max_nodes",
                )
            )
        found.extend(self._machine_problems(path))
        return found

    def _machine_problems(self, path: str) -> list[ValidationProblem]:
        if not self.machine_type:
            return []
        shape = MACHINE_TYPES.get(self.machine_type)
        where = f"{path}.machine_type"
        if shape is None:
            if family_of(self.machine_type) in MACHINE_FAMILIES:
                return [
                    ValidationProblem(
                        where,
                        f"{self.machine_type!r} is not a known size of the "
                        f"{family_of(self.machine_type)} family",
                        "check the machine type name",
                    )
                ]
            return []
        found: list[ValidationProblem] = []
        cores = self.cpu_cores()
        if cores is not None and cores > shape.vcpus:
            found.append(
                ValidationProblem(
                    where,
                    f"{self.machine_type} has {shape.vcpus} vCPUs, fewer than cpu={self.cpu}",
                    "choose a larger machine type or ask for less cpu",
                )
            )
        memory = self.memory_bytes()
        if memory is not None and memory > shape.memory_gib * GIB:
            found.append(
                ValidationProblem(
                    where,
                    f"{self.machine_type} has {shape.memory_gib.normalize()}Gi of memory, less than "
                    f"memory={self.memory} ({format_bytes(memory)})",
                    "choose a larger machine type or ask for less memory",
                )
            )
        if shape.gpus and self.gpu_count > shape.gpus:
            found.append(
                ValidationProblem(
                    where,
                    f"{self.machine_type} has {shape.gpus} GPU(s), fewer than gpu_count="
                    f"{self.gpu_count}",
                    "choose a larger machine type or ask for fewer GPUs",
                )
            )
        return found
