"""A Kubernetes API (kmock's emulator) with a test-only job controller + kubelet on real Docker.

No API server can be had here (no kube-apiserver, kind, k3s or kwok from the registries), so
the Kubernetes conversation runs against ``kmock`` (PyPI, not ours): the official client
creates, lists, reads and deletes real JSON objects over HTTP. Nothing in kmock runs anything,
so :class:`Kubelet` closes the loop the way a cluster does, through the same API:

- job controller: a pod per new Job (the Job's pod template, ``job-name`` label), Job status
  and ``Complete`` / ``Failed`` conditions, ``DeadlineExceeded`` past ``activeDeadlineSeconds``,
  pods removed with their Job (kmock has no garbage collector);
- scheduler: one node with ``capacity``; a pod asking for more (or a node selector it does not
  match) stays ``Pending`` with ``PodScheduled=False`` and the scheduler's message;
- kubelet: pulls the image from the registry (``imagePullPolicy: Always``; a failed pull is
  ``ErrImagePull`` then ``ImagePullBackOff``), runs the container on the real Docker engine with
  the pod's user, environment (``envFrom`` Secrets read through the API), limits, read-only
  root, ``emptyDir`` and claim volumes (claims map to host directories), then writes phase,
  exit code and ``OOMKilled`` back; ``pods/log`` serves the container's output.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LABEL = "org.flowyml.test.kubelet"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """kmock's Kubernetes emulator served on 127.0.0.1 from a background event loop."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.logs: dict[tuple[str, str], Any] = {}  # (namespace, pod) -> callable -> bytes
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        import kmock

        self._stop = asyncio.Event()
        async with (
            kmock.KubernetesEmulator() as k,
            kmock.Server(k, host="127.0.0.1", port=self.port),
        ):
            k.resources.load_bundled()
            k[kmock.subresource("log")] << self._log
            self._ready.set()
            await self._stop.wait()

    def _log(self, request: Any) -> bytes:
        found = self.logs.get((request.namespace, request.name))
        return found() if found is not None else b""

    def start(self) -> Emulator:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("kmock did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def kubeconfig(self, directory: Path) -> Path:
        """A kubeconfig file pointing at this emulator (what a KubernetesStack names)."""
        path = directory / "kubeconfig.yaml"
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: kmock\n  cluster:\n    server: {self.url}\n"
            "contexts:\n- name: kmock\n  context:\n    cluster: kmock\n    user: kmock\n"
            "current-context: kmock\n"
            "users:\n- name: kmock\n  user:\n    token: not-a-secret\n",
            encoding="utf-8",
        )
        return path

    def api(self) -> Any:
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)


@dataclass
class _Pod:
    namespace: str
    name: str
    job: str
    spec: dict[str, Any]
    created: float
    container: Any = None
    phase: str = "Pending"
    scratch: list[Path] = field(default_factory=list)
    pulls: int = 0


class Kubelet:
    """The job controller, scheduler and kubelet of one node (module docstring).

    Args:
        emulator: The API.
        docker_client: The real engine the containers run on.
        claims: Claim name -> host directory mounted where the pod mounts the claim.
        capacity: The node's allocatable resources (``cpu`` cores, ``memory`` bytes,
            ``nvidia.com/gpu``).
        node_labels: The node's labels (what node selectors must match).
    """

    def __init__(
        self,
        emulator: Emulator,
        docker_client: Any,
        *,
        claims: dict[str, Path] | None = None,
        capacity: dict[str, float] | None = None,
        node_labels: dict[str, str] | None = None,
        tick: float = 0.05,
    ) -> None:
        from kubernetes import client

        self.emulator = emulator
        self.docker = docker_client
        self.claims = dict(claims or {})
        self.capacity = capacity or {"cpu": 4.0, "memory": 8 * 2**30, "nvidia.com/gpu": 0}
        self.node = "node-1"
        self.node_labels = {"kubernetes.io/hostname": self.node, **(node_labels or {})}
        self.tick = tick
        api = emulator.api()
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.pods: dict[tuple[str, str], _Pod] = {}  # (namespace, job) -> its pod
        self.jobs_seen: set[tuple[str, str]] = set()
        self.job_started: dict[tuple[str, str], float] = {}
        self.created_jobs: list[tuple[float, str]] = []  # (when seen, job name)
        self.reclaim: set[str] = set()  # job names whose node is "reclaimed" once running
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="test-kubelet")
        self.errors: list[str] = []

    def start(self) -> Kubelet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for pod in list(self.pods.values()):
            self._remove(pod)

    # -- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sync()
            except Exception as exc:  # kept for the test to show, never silent
                if getattr(exc, "status", None) == 404:
                    continue  # deleted by the driver between our list and our write: a race
                    # a real kubelet also loses (it sees the deletion on its next sync)
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.tick)

    def _sync(self) -> None:
        jobs = {
            (j.metadata.namespace, j.metadata.name): j
            for j in self.batch.list_job_for_all_namespaces().items
        }
        for key, job in jobs.items():
            if key not in self.jobs_seen:
                self.jobs_seen.add(key)
                self.created_jobs.append((time.monotonic(), key[1]))
                self._create_pod(key, job)
        for key, pod in list(self.pods.items()):
            if key not in jobs:  # the Job was deleted: its pod goes too
                self._remove(pod)
                with contextlib.suppress(Exception):
                    self.core.delete_namespaced_pod(pod.name, pod.namespace)
                del self.pods[key]
                continue
            try:
                self.core.read_namespaced_pod(pod.name, pod.namespace, _preload_content=False)
            except Exception:  # the pod was deleted (by the driver): stop its container
                self._remove(pod)
                del self.pods[key]
                continue
            self._advance(key, jobs[key], pod)

    def _create_pod(self, key: tuple[str, str], job: Any) -> None:
        namespace, name = key
        raw = self.batch.api_client.sanitize_for_serialization(job)
        template = raw["spec"]["template"]
        labels = {**(template.get("metadata", {}).get("labels") or {}), "job-name": name}
        pod_name = f"{name}-{int(time.time() * 1000) % 100000:05d}"
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": namespace, "labels": labels},
            "spec": template["spec"],
        }
        self.core.create_namespaced_pod(namespace, body)
        self.pods[key] = _Pod(namespace, pod_name, name, template["spec"], time.monotonic())
        self.job_started[key] = time.monotonic()
        self.batch.patch_namespaced_job_status(
            name, namespace, {"status": {"startTime": _now(), "active": 1}}
        )

    # -- one pod ------------------------------------------------------------------------------

    def _status(self, pod: _Pod, status: dict[str, Any]) -> None:
        self.core.patch_namespaced_pod_status(pod.name, pod.namespace, {"status": status})

    def _job_status(self, pod: _Pod, status: dict[str, Any]) -> None:
        self.batch.patch_namespaced_job_status(pod.job, pod.namespace, {"status": status})

    def _unschedulable(self, spec: dict[str, Any]) -> str | None:
        from flowyml.stacks.quantities import parse_bytes, parse_cpu

        for key, value in (spec.get("nodeSelector") or {}).items():
            if self.node_labels.get(key) != value:
                return (
                    "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
                )
        requests = (spec["containers"][0].get("resources") or {}).get("requests") or {}
        short = []
        if "cpu" in requests and float(parse_cpu(requests["cpu"])) > self.capacity["cpu"]:
            short.append("1 Insufficient cpu")
        if "memory" in requests and parse_bytes(requests["memory"]) > self.capacity["memory"]:
            short.append("1 Insufficient memory")
        if int(requests.get("nvidia.com/gpu", 0)) > self.capacity.get("nvidia.com/gpu", 0):
            short.append("1 Insufficient nvidia.com/gpu")
        if short:
            return (
                f"0/1 nodes are available: {', '.join(short)}. preemption: 0/1 nodes are available."
            )
        return None

    def _advance(self, key: tuple[str, str], job: Any, pod: _Pod) -> None:
        deadline = job.spec.active_deadline_seconds
        if (
            deadline
            and pod.phase in {"Pending", "Running"}
            and time.monotonic() - self.job_started[key] > deadline
        ):
            self._remove(pod)
            pod.phase = "Failed"
            self._status(pod, {"phase": "Failed", "reason": "DeadlineExceeded"})
            self._job_status(
                pod,
                {
                    "active": 0,
                    "failed": 1,
                    "conditions": [
                        {
                            "type": "Failed",
                            "status": "True",
                            "reason": "DeadlineExceeded",
                            "message": "Job was active longer than specified deadline",
                        }
                    ],
                },
            )
            return
        if pod.phase == "Pending" and pod.container is None:
            self._start(pod)
        elif pod.phase == "Running":
            self._check_running(pod)

    def _start(self, pod: _Pod) -> None:
        import docker.errors

        why = self._unschedulable(pod.spec)
        if why is not None:
            self._status(
                pod,
                {
                    "phase": "Pending",
                    "conditions": [
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "reason": "Unschedulable",
                            "message": why,
                        }
                    ],
                },
            )
            return
        container = pod.spec["containers"][0]
        image = container["image"]
        try:
            self.docker.images.pull(image)  # imagePullPolicy: Always
        except docker.errors.APIError as exc:
            pod.pulls += 1
            reason = "ErrImagePull" if pod.pulls == 1 else "ImagePullBackOff"
            message = (
                f'Back-off pulling image "{image}"'
                if reason == "ImagePullBackOff"
                else f"failed to pull image {image}: {exc.explanation or exc}"
            )
            self._status(
                pod,
                {
                    "phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "True"}],
                    "containerStatuses": [
                        {
                            "name": container["name"],
                            "image": image,
                            "imageID": "",
                            "ready": False,
                            "restartCount": 0,
                            "state": {"waiting": {"reason": reason, "message": message}},
                        }
                    ],
                },
            )
            return
        pod.container = self.docker.containers.run(**self._run_options(pod), detach=True)
        pod.phase = "Running"
        self.emulator.logs[(pod.namespace, pod.name)] = lambda c=pod.container: _logs(c)
        self.core.patch_namespaced_pod(pod.name, pod.namespace, {"spec": {"nodeName": self.node}})
        self._status(
            pod,
            {
                "phase": "Running",
                "conditions": [{"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [
                    {
                        "name": container["name"],
                        "image": image,
                        "imageID": f"docker-pullable://{image}",
                        "containerID": f"docker://{pod.container.id}",
                        "ready": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": _now()}},
                    }
                ],
            },
        )

    def _run_options(self, pod: _Pod) -> dict[str, Any]:
        from flowyml.stacks.quantities import parse_bytes, parse_cpu

        spec = pod.spec
        container = spec["containers"][0]
        env = {e["name"]: e["value"] for e in container.get("env") or []}
        for source in container.get("envFrom") or []:
            secret = self.core.read_namespaced_secret(source["secretRef"]["name"], pod.namespace)
            env.update(secret.string_data or {})
            env.update({k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()})
        volumes: dict[str, dict[str, str]] = {}
        by_name = {v["name"]: v for v in spec.get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            volume = by_name[mount["name"]]
            if "persistentVolumeClaim" in volume:
                host = self.claims[volume["persistentVolumeClaim"]["claimName"]]
            else:  # emptyDir
                host = Path(tempfile.mkdtemp(prefix="kubelet-empty-"))
                host.chmod(0o777)
                pod.scratch.append(host)
            volumes[str(host)] = {"bind": mount["mountPath"], "mode": "rw"}
        security = {
            **(spec.get("securityContext") or {}),
            **(container.get("securityContext") or {}),
        }
        limits = (container.get("resources") or {}).get("limits") or {}
        options: dict[str, Any] = {
            "image": container["image"],
            "command": container["command"],
            "environment": env,
            "volumes": volumes,
            "network_mode": "host",
            "labels": {LABEL: pod.name},
            "read_only": bool(security.get("readOnlyRootFilesystem")),
            "cap_drop": ["ALL"]
            if "ALL" in (security.get("capabilities") or {}).get("drop", [])
            else None,
            "security_opt": ["no-new-privileges"]
            if security.get("allowPrivilegeEscalation") is False
            else None,
        }
        if security.get("runAsUser") is not None:
            options["user"] = (
                f"{security['runAsUser']}:{security.get('runAsGroup', security['runAsUser'])}"
            )
        if limits.get("memory"):
            options["mem_limit"] = options["memswap_limit"] = parse_bytes(limits["memory"])
        if limits.get("cpu"):
            options["nano_cpus"] = int(parse_cpu(limits["cpu"]) * 1_000_000_000)
        return {k: v for k, v in options.items() if v is not None}

    def _check_running(self, pod: _Pod) -> None:
        if pod.job in self.reclaim:
            self.reclaim.discard(pod.job)
            self._remove(pod)
            pod.phase = "Failed"
            self._status(
                pod,
                {
                    "phase": "Failed",
                    "reason": "Terminated",
                    "message": "Pod was terminated in response to imminent node shutdown.",
                    "conditions": [
                        {
                            "type": "DisruptionTarget",
                            "status": "True",
                            "reason": "TerminationByKubelet",
                            "message": "Pod was terminated in response to imminent node shutdown.",
                        }
                    ],
                },
            )
            self._job_status(pod, {"active": 0, "failed": 1})
            return
        container = pod.container
        container.reload()
        state = container.attrs["State"]
        if state["Status"] not in {"exited", "dead"}:
            return
        code = int(state["ExitCode"])
        reason = "OOMKilled" if state.get("OOMKilled") else ("Completed" if code == 0 else "Error")
        pod.phase = "Succeeded" if code == 0 else "Failed"
        logs = _logs(container)
        self.emulator.logs[(pod.namespace, pod.name)] = lambda: logs
        self._status(
            pod,
            {
                "phase": pod.phase,
                "containerStatuses": [
                    {
                        "name": pod.spec["containers"][0]["name"],
                        "image": pod.spec["containers"][0]["image"],
                        "imageID": f"docker-pullable://{pod.spec['containers'][0]['image']}",
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {"exitCode": code, "reason": reason, "finishedAt": _now()}
                        },
                    }
                ],
            },
        )
        condition = {"type": "Complete" if code == 0 else "Failed", "status": "True"}
        if code != 0:
            condition |= {
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
            }
        self._job_status(
            pod,
            {"active": 0, "succeeded" if code == 0 else "failed": 1, "conditions": [condition]},
        )
        with contextlib.suppress(Exception):
            container.remove(force=True)
        pod.container = None

    def _remove(self, pod: _Pod) -> None:
        if pod.container is not None:
            with contextlib.suppress(Exception):
                pod.container.remove(force=True)
            pod.container = None
        for path in pod.scratch:
            shutil.rmtree(path, ignore_errors=True)
        pod.scratch.clear()

    def leftover_containers(self) -> list[Any]:
        """Containers this kubelet started that still exist."""
        return list(self.docker.containers.list(all=True, filters={"label": LABEL}))


def _logs(container: Any) -> bytes:
    try:
        return bytes(container.logs(stdout=True, stderr=True))
    except Exception:
        return b""
