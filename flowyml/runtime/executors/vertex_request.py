"""The Vertex AI CustomJob of one step attempt, built with ``google-cloud-aiplatform``'s types.

Built with the library's own proto-plus types, so a wrong field or enum fails here, not on
Google's side. One worker pool of one replica: the machine from
:func:`~flowyml.runtime.executors.vertex_machines.worker_machine`, the run's image running
``python3 -m flowyml.entrypoint TASK_URI``, the boot disk from ``disk_size``, ``preemptible`` as
``Scheduling(strategy=SPOT)``, the step's timeout as the job's, the runner service account, and
Vertex's own staging under the stack's bucket (``base_output_directory``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowyml.runtime.executors.remote import ENTRYPOINT
from flowyml.runtime.executors.vertex_machines import Machine, accelerator_type

__all__ = ["custom_job", "job_dict"]

_GIB = 2**30
MIN_BOOT_DISK_GB = 100  # Vertex AI's default and minimum useful boot disk for training images


def custom_job(
    task_uri: str,
    image: str,
    *,
    display_name: str,
    machine: Machine,
    resources: Mapping[str, Any] | None,
    env: Mapping[str, str],
    labels: Mapping[str, str],
    service_account: str | None,
    staging_uri: str | None,
    timeout: float | None,
) -> Any:
    """The ``google.cloud.aiplatform_v1.types.CustomJob`` of one attempt (module docstring)."""
    from google.cloud.aiplatform_v1 import types
    from google.protobuf import duration_pb2

    from flowyml.stacks.quantities import parse_bytes

    given = dict(resources or {})
    machine_spec = types.MachineSpec(machine_type=machine.machine_type)
    if machine.accelerator and machine.accelerator_count:
        kind = accelerator_type(machine.accelerator)
        machine_spec.accelerator_type = getattr(types.AcceleratorType, kind)  # unknown: fails
        machine_spec.accelerator_count = machine.accelerator_count
    disk_gb = MIN_BOOT_DISK_GB
    if given.get("disk_size"):
        disk_gb = max(disk_gb, math.ceil(parse_bytes(given["disk_size"]) / _GIB))
    pool = types.WorkerPoolSpec(
        machine_spec=machine_spec,
        replica_count=1,
        disk_spec=types.DiskSpec(boot_disk_type="pd-ssd", boot_disk_size_gb=disk_gb),
        container_spec=types.ContainerSpec(
            image_uri=image,
            command=list(ENTRYPOINT),
            args=[task_uri],
            env=[types.EnvVar(name=k, value=v) for k, v in sorted(env.items())],
        ),
    )
    spec = types.CustomJobSpec(worker_pool_specs=[pool])
    if service_account:
        spec.service_account = service_account
    if staging_uri:
        spec.base_output_directory = types.GcsDestination(output_uri_prefix=staging_uri)
    scheduling = types.Scheduling()
    if given.get("preemptible"):
        scheduling.strategy = types.Scheduling.Strategy.SPOT  # type: ignore[assignment]
    if timeout:
        scheduling.timeout = duration_pb2.Duration(seconds=max(1, math.ceil(timeout)))
    if given.get("preemptible") or timeout:
        spec.scheduling = scheduling
    return types.CustomJob(display_name=display_name, job_spec=spec, labels=dict(labels))


def job_dict(job: Any) -> dict[str, Any]:
    """A CustomJob as the JSON the REST API takes (camelCase, enums by name, set fields only)."""
    import json

    from google.cloud.aiplatform_v1 import types

    data: dict[str, Any] = json.loads(
        types.CustomJob.to_json(
            job, use_integers_for_enums=False, always_print_fields_with_no_presence=False
        )
    )
    return data
