"""The Kubernetes Job (and Secret) of one step attempt, as plain manifests.

Pure functions, no client: the Kubernetes executor submits these, ``flowyml run --dry-run``
prints them, and an orchestrator that runs steps as pods (Kubeflow, Airflow's
KubernetesPodOperator) can reuse :func:`job_manifest` as is.

What a step's Job always is:
- ``backoffLimit: 0``: flowyml retries (each attempt is its own Job, recorded as such);
  ``restartPolicy: Never``; ``ttlSecondsAfterFinished`` so a finished Job is collected even if
  the driver is gone; ``activeDeadlineSeconds`` from the step's timeout.
- Requests equal limits for CPU and memory (a step over its memory is OOM-killed, as in Docker),
  ``disk_size`` is ephemeral storage, GPUs are ``nvidia.com/gpu`` with the accelerator's node
  selector (GKE) and the toleration of the taint GPU node pools carry; ``machine_type`` is a
  node selector on ``node.kubernetes.io/instance-type``; ``preemptible`` selects spot nodes (GKE
  ``cloud.google.com/gke-spot``, EKS ``eks.amazonaws.com/capacityType``) and tolerates their taint.
- A restricted security posture: non-root user, no privilege escalation, every capability
  dropped, read-only root filesystem (``/tmp`` is an ``emptyDir``), the runtime's default seccomp
  profile, no service-account token mounted (steps reach the cloud through the workload identity
  of their service account, not through the Kubernetes API).
- Secret values never appear in the pod spec: they live in a Secret the container loads with
  ``envFrom``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DEFAULT_RESOURCES",
    "LABEL_ATTEMPT",
    "LABEL_RUN",
    "LABEL_STEP",
    "Provider",
    "VolumeMount",
    "job_manifest",
    "job_name",
    "secret_manifest",
]

Provider = Literal["gke", "eks"]
"""Managed Kubernetes flavours whose node labels the Job uses; ``None``: any cluster."""

LABEL_RUN = "flowyml.org/run"
LABEL_STEP = "flowyml.org/step"
LABEL_ATTEMPT = "flowyml.org/attempt"
MANAGED_BY = {"app.kubernetes.io/managed-by": "flowyml"}
CONTAINER = "step"
STEP_USER = 10001  # a non-root uid no base image gives a name to; HOME is /tmp
DEFAULT_RESOURCES = {"cpu": "500m", "memory": "1Gi"}
"""What a step with no ResourceConfig (on the step or the stack) asks for."""
TTL_SECONDS = 600
GPU_RESOURCE = "nvidia.com/gpu"
_GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"
_GKE_SPOT = "cloud.google.com/gke-spot"
_EKS_CAPACITY = "eks.amazonaws.com/capacityType"
_INSTANCE_TYPE = "node.kubernetes.io/instance-type"


@dataclass(frozen=True)
class VolumeMount:
    """A persistent volume claim mounted in the step's container (a ``pvc://`` store)."""

    claim: str
    mount_path: str
    name: str = "artifacts"


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return (slug[:limit].rstrip("-")) or "step"


def job_name(run_id: str, step: str, attempt: int) -> str:
    """A DNS-1123 name unique per run, step and attempt (at most 63 characters)."""
    digest = hashlib.sha256(f"{run_id}/{step}".encode()).hexdigest()[:10]
    return f"flowyml-{_slug(step, 36)}-{digest}-{attempt}"


def label_value(text: str) -> str:
    """``text`` as a label value (63 characters of ``[A-Za-z0-9._-]``, alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63]
    return value.strip("-._") or "x"


def _quantities(resources: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    given = dict(resources or {})
    cpu = given.get("cpu") or DEFAULT_RESOURCES["cpu"]
    memory = given.get("memory") or DEFAULT_RESOURCES["memory"]
    requests = {"cpu": str(cpu), "memory": str(memory)}
    limits = dict(requests)
    if given.get("disk_size"):
        requests["ephemeral-storage"] = limits["ephemeral-storage"] = str(given["disk_size"])
    gpus = int(given.get("gpu_count") or (1 if given.get("gpu") else 0))
    if gpus:
        limits[GPU_RESOURCE] = requests[GPU_RESOURCE] = str(gpus)
    return requests, limits


def _placement(
    resources: Mapping[str, Any] | None, provider: Provider | None
) -> tuple[dict[str, str], list[dict[str, str]]]:
    given = dict(resources or {})
    selector: dict[str, str] = {}
    tolerations: list[dict[str, str]] = []
    if given.get("machine_type"):
        selector[_INSTANCE_TYPE] = str(given["machine_type"])
    if given.get("gpu") or given.get("gpu_count"):
        if provider == "gke" and given.get("gpu"):
            from flowyml.cost.machines import gpu_key

            selector[_GKE_ACCELERATOR] = gpu_key(str(given["gpu"]))
        # GKE taints GPU pools nvidia.com/gpu=present:NoSchedule; EKS GPU groups by convention.
        tolerations.append({"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"})
    if given.get("preemptible"):
        if provider == "gke":
            selector[_GKE_SPOT] = "true"
            tolerations.append(
                {"key": _GKE_SPOT, "operator": "Equal", "value": "true", "effect": "NoSchedule"}
            )
        elif provider == "eks":
            selector[_EKS_CAPACITY] = "SPOT"
    return selector, tolerations


def job_manifest(
    task_uri: str,
    image: str,
    *,
    name: str,
    namespace: str,
    resources: Mapping[str, Any] | None = None,
    service_account: str | None = None,
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    secret_name: str | None = None,
    timeout: float | None = None,
    provider: Provider | None = None,
    volume: VolumeMount | None = None,
    ttl_seconds: int = TTL_SECONDS,
    command: tuple[str, ...] = ("python3", "-m", "flowyml.entrypoint"),
) -> dict[str, Any]:
    """The ``batch/v1`` Job running ``command TASK_URI`` in ``image`` (module docstring).

    Args:
        task_uri: The step task the entrypoint runs.
        image: The image reference (built and pushed for the run).
        name: The Job's name (see :func:`job_name`).
        namespace: Its namespace.
        resources: The step's ResourceConfig as a dict (``None``: :data:`DEFAULT_RESOURCES`).
        service_account: The Kubernetes service account the pod runs as.
        labels: Labels of the Job and its pod (run, step, attempt).
        env: Variables of the container (no secrets: those go in ``secret_name``).
        secret_name: A Secret in ``namespace`` loaded into the environment with ``envFrom``.
        timeout: Seconds the attempt may run (``activeDeadlineSeconds``).
        provider: ``gke`` or ``eks`` for their node labels; ``None`` for any cluster.
        volume: A persistent volume claim to mount.
        ttl_seconds: How long a finished Job is kept before the cluster deletes it.
        command: The entrypoint command (the task URI is appended).

    Returns:
        The Job manifest as a JSON-ready dict.
    """
    all_labels = {**MANAGED_BY, **dict(labels or {})}
    requests, limits = _quantities(resources)
    selector, tolerations = _placement(resources, provider)
    container_env = [{"name": "HOME", "value": "/tmp"}]
    container_env += [{"name": k, "value": v} for k, v in sorted((env or {}).items())]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    if volume is not None:
        mounts.append({"name": volume.name, "mountPath": volume.mount_path})
        volumes.append({"name": volume.name, "persistentVolumeClaim": {"claimName": volume.claim}})
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image,
        # Tags are content hashes, but Always is what a shared cluster should do (checkov
        # CKV_K8S_15): a node never runs a stale image under a reused tag.
        "imagePullPolicy": "Always",
        "command": [*command, task_uri],
        "env": container_env,
        "resources": {"requests": requests, "limits": limits},
        "volumeMounts": mounts,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": STEP_USER,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if secret_name:
        container["envFrom"] = [{"secretRef": {"name": secret_name}}]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": STEP_USER,
            "runAsGroup": STEP_USER,
            "fsGroup": STEP_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    if selector:
        pod_spec["nodeSelector"] = selector
    if tolerations:
        pod_spec["tolerations"] = tolerations
    spec: dict[str, Any] = {
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": ttl_seconds,
        "template": {"metadata": {"labels": dict(all_labels)}, "spec": pod_spec},
    }
    if timeout:
        spec["activeDeadlineSeconds"] = max(1, math.ceil(timeout))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": all_labels},
        "spec": spec,
    }


def secret_manifest(
    name: str, namespace: str, values: Mapping[str, str], labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A ``v1`` Secret holding ``values`` (sent as ``stringData``; never printed by flowyml)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, **(labels or {})},
        },
        "stringData": dict(values),
    }
