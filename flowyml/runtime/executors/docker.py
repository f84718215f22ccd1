"""Steps in containers: one container per attempt on a local or remote Docker engine.

``DockerExecutor`` uses this machine's engine; ``RemoteExecutor(endpoint="ssh://..." |
"tcp://...")`` another one (the engine's own API over SSH or TLS, as the docker CLI does).
Each attempt runs ``python3 -m flowyml.entrypoint TASK_URI`` in the run's image (see
:mod:`flowyml.runtime.submission`); the step reads and writes the artifact store itself, so the
strategy returns output refs, not values.

Invariants:
- Every container carries the labels ``org.flowyml.run`` / ``org.flowyml.step`` /
  ``org.flowyml.attempt``; ``shutdown`` (end of run, Ctrl-C) removes every container of the run.
- ResourceConfig becomes limits: ``cpu`` -> CPU quota, ``memory`` -> memory limit (no swap),
  ``gpu_count`` -> a GPU device request. A step timeout kills the container.
- A non-zero exit, an OOM kill or a missing image ends the attempt failed with that reason.
- Output streams live to this process's stderr, each line prefixed with the step name, and is
  kept as the step's log by the entrypoint.
- A local ``file://`` artifact store is mounted at the same path and the container runs as this
  user, so the files it writes are the user's. Credentials reach the container only as the
  standard variables of each SDK, passed through from this process's environment.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from flowyml.pipeline.executors import Outcome, StepAttempt
from flowyml.runtime.executors.remote import (
    ENTRYPOINT,
    LineEcho,
    build_task,
    first_line,
    keep_tail,
    read_result,
    result_outcome,
    stderr_echo,
    step_environment,
    step_resources,
    submission_of,
)
from flowyml.runtime.submission import Submission
from flowyml.runtime.tasks import StepTask

LABEL_RUN = "org.flowyml.run"
LABEL_STEP = "org.flowyml.step"
LABEL_ATTEMPT = "org.flowyml.attempt"
CODE_CACHE_MOUNT = "/var/cache/flowyml-code"


def _limits(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """Container limits for a ResourceConfig dict (keyword arguments of ``containers.create``)."""
    from flowyml.stacks.quantities import parse_bytes, parse_cpu

    if not resources:
        return {}
    limits: dict[str, Any] = {}
    if resources.get("cpu"):
        limits["nano_cpus"] = int(parse_cpu(resources["cpu"]) * 1_000_000_000)
    if resources.get("memory"):
        memory = parse_bytes(resources["memory"])
        limits["mem_limit"] = memory
        limits["memswap_limit"] = memory  # no swap: over the limit is an OOM kill, not a crawl
    gpus = int(resources.get("gpu_count") or (1 if resources.get("gpu") else 0))
    if gpus:
        import docker

        limits["device_requests"] = [docker.types.DeviceRequest(count=gpus, capabilities=[["gpu"]])]
    return limits


class DockerStrategy:
    """Runs each attempt in its own container (module docstring).

    Args:
        bound: The bound stack (artifact store, executor declaration, submission).
        client: A ``docker.DockerClient`` for the engine.
        capacity: Containers running at once.
        echo: Where prefixed container output goes (stderr by default).
    """

    needs_values = False
    timeout_note = "its container was stopped"

    def __init__(
        self,
        bound: Any,
        client: Any,
        capacity: int,
        *,
        echo: Callable[[str], None] = stderr_echo,
    ) -> None:
        submission = submission_of(bound, "Docker")
        self.kind = str(bound.executor_kind)
        self.capacity = max(1, capacity)
        self._bound = bound
        self._client = client
        self._submission: Submission = submission
        self._echo = echo
        self._store = bound.artifact_store
        declaration = bound.executor
        self._network = str(getattr(declaration, "network", "host"))
        self._endpoint = str(getattr(declaration, "endpoint", "") or "local")
        self._lock = threading.Lock()
        self._containers: dict[Future[Outcome], Any] = {}
        self._started: dict[Future[Outcome], float] = {}
        self._abandoned: set[Future[Outcome]] = set()
        self._runs: set[str] = set()
        self._defaults = getattr(bound.declaration, "resources", None)

    # -- the container of one attempt ---------------------------------------------------------

    def _task(self, attempt: StepAttempt) -> StepTask:
        return build_task(attempt, self._submission, self._store)

    def _environment(self) -> dict[str, str]:
        return step_environment(self._submission, self._store)

    def _resources(self, attempt: StepAttempt) -> Mapping[str, Any] | None:
        return step_resources(attempt, self._defaults)

    def _create_options(self, attempt: StepAttempt, task_uri: str) -> dict[str, Any]:
        env = self._environment()
        volumes: dict[str, dict[str, str]] = {}
        options: dict[str, Any] = {}
        local_root = self._store.local_root
        if local_root is not None and self.kind == "docker":
            volumes[local_root] = {"bind": local_root, "mode": "rw"}
            options["user"] = f"{os.getuid()}:{os.getgid()}"
            env["HOME"] = "/tmp"
        if self.kind == "docker":
            from flowyml.runtime.code_package import cache_dir

            cache = cache_dir()
            cache.mkdir(parents=True, exist_ok=True)
            volumes[str(cache)] = {"bind": CODE_CACHE_MOUNT, "mode": "rw"}
            env["FLOWYML_CODE_CACHE"] = CODE_CACHE_MOUNT
        return {
            "image": self._submission.image,
            "command": [*ENTRYPOINT, task_uri],
            "labels": {
                LABEL_RUN: attempt.run_id,
                LABEL_STEP: attempt.step,
                LABEL_ATTEMPT: str(attempt.attempt),
            },
            "environment": env,
            "network_mode": self._network,
            "volumes": volumes,
            "detach": True,
            **options,
            **_limits(self._resources(attempt)),
        }

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._runs.add(attempt.run_id)
        try:
            task = self._task(attempt)
            task_uri = self._store.put_bytes(f"{task.key}/task.json", task.to_json())
        except Exception as exc:
            future.set_result(Outcome(error=f"cannot submit step '{attempt.step}': {exc}"))
            return future
        threading.Thread(
            target=self._drive,
            args=(future, attempt, task, task_uri),
            name=f"flowyml-docker-{attempt.step}",
            daemon=True,
        ).start()
        return future

    def _drive(
        self, future: Future[Outcome], attempt: StepAttempt, task: StepTask, task_uri: str
    ) -> None:
        import docker.errors

        echo = LineEcho(attempt.step, self._echo)
        container = None
        try:
            container = self._client.containers.create(**self._create_options(attempt, task_uri))
            with self._lock:
                self._containers[future] = container
                gave_up = future in self._abandoned
            if gave_up:  # the loop gave up on it while it was being created
                return
            container.start()
            with self._lock:
                self._started[future] = time.monotonic()
            for chunk in container.logs(stream=True, follow=True):
                echo.feed(chunk)
            echo.close()
            status = container.wait()
            container.reload()
            outcome = self._outcome(attempt, task, container, status, echo)
        except docker.errors.ImageNotFound:
            outcome = Outcome(
                error=f"image {self._submission.image} is not on the Docker engine at "
                f"{self._endpoint}; build it with `flowyml build` or check DockerConfig(image=...)",
                executor=self.kind,
            )
        except Exception as exc:
            if future in self._abandoned:
                return
            outcome = Outcome(
                error=f"the Docker engine at {self._endpoint} failed running step "
                f"'{attempt.step}': {first_line(exc)}",
                executor=self.kind,
            )
        finally:
            if container is not None:
                self._remove(container)
            with self._lock:
                self._containers.pop(future, None)
        if not future.done() and future not in self._abandoned:
            future.set_result(outcome)

    def _outcome(
        self,
        attempt: StepAttempt,
        task: StepTask,
        container: Any,
        status: Mapping[str, Any],
        echo: LineEcho,
    ) -> Outcome:
        state = container.attrs.get("State", {})
        code = int(status.get("StatusCode", state.get("ExitCode", -1)))
        details = {
            "container": container.short_id,
            "engine": self._endpoint,
            "image": self._submission.image,
            "exit_code": code,
        }
        result = read_result(self._store, task)
        failure = None
        if state.get("OOMKilled"):
            limit = (self._resources(attempt) or {}).get("memory")
            failure = (
                f"OOMKilled: step '{attempt.step}' used more memory than its limit"
                + (f" of {limit}" if limit else "")
                + f" and was killed (container exit code {code})."
            )
        last = "\n".join(echo.tail[-5:])
        return result_outcome(
            result,
            kind=self.kind,
            details=details,
            failure=failure,
            exited_ok=code == 0,
            no_result=f"step '{attempt.step}' container exited with code {code} before recording "
            "a result" + (f"; its last output:\n{last}" if last else "."),
            log_uri=None if result is not None else keep_tail(self._store, task, echo.tail),
        )

    @staticmethod
    def _remove(container: Any) -> None:
        # Already gone is fine (removed by shutdown, or by the engine).
        with contextlib.suppress(Exception):
            container.remove(force=True)

    # -- the loop's side ----------------------------------------------------------------------

    def started_at(self, future: Future[Outcome]) -> float | None:
        with self._lock:
            return self._started.get(future)

    def abandon(self, future: Future[Outcome]) -> None:
        with self._lock:
            self._abandoned.add(future)
            container = self._containers.get(future)
            self._started.pop(future, None)
        if container is not None:
            self._remove(container)

    def shutdown(self) -> None:
        with self._lock:
            containers = list(self._containers.values())
            runs = set(self._runs)
        for container in containers:
            self._remove(container)
        for run_id in runs:  # also any created between the snapshot and here
            try:
                leftovers = self._client.containers.list(
                    all=True, filters={"label": f"{LABEL_RUN}={run_id}"}
                )
            except Exception:
                continue
            for container in leftovers:
                self._remove(container)


def create(bound: Any, max_workers: int, use_processes: bool = False) -> DockerStrategy:
    """The Docker strategy of ``bound`` (``use_processes`` is moot: every step is a container)."""
    from flowyml.runtime.images.for_stack import engine_client

    declared = getattr(bound.executor, "max_workers", None)
    return DockerStrategy(bound, engine_client(bound.declaration), int(declared or max_workers))
