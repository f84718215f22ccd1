"""Steps as Vertex AI custom jobs: one CustomJob per step attempt in the stack's region.

Each attempt writes its task to the artifact store (the stack's bucket), creates a CustomJob
(:func:`~flowyml.runtime.executors.vertex_request.custom_job`) through the official
``google-cloud-aiplatform`` client (REST transport), polls it with backoff and maps its end:
``JOB_STATE_SUCCEEDED`` -> the outputs the entrypoint recorded; ``JOB_STATE_FAILED`` -> the
job's error message (and the step's traceback when the entrypoint recorded one);
``JOB_STATE_CANCELLED`` -> cancelled. Timeouts, Ctrl-C and the end of the run cancel the run's
jobs (``cancel_custom_job``). Each record gets the job's name and links to it and to its logs
in the Cloud console (``runs show`` prints them); the step's output is kept as its log by the
entrypoint (Vertex AI streams logs to Cloud Logging, not to this process).

The API endpoint is the one ``stack up`` recorded (``executor_endpoint``), else the region's.
Credentials are Application Default Credentials; an ``http://`` endpoint (a local emulator)
gets anonymous ones, so no token ever crosses an unencrypted connection.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flowyml.core.outputs import EXECUTOR_ENDPOINT, PROJECT_ID, REGION, SERVICE_ACCOUNT
from flowyml.pipeline.executors import Outcome, StepAttempt
from flowyml.runtime.errors import BindingError
from flowyml.runtime.executors.remote import (
    PASSTHROUGH_ENV,
    SECRET_ENV,
    build_task,
    first_line,
    read_result,
    result_outcome,
    step_environment,
    step_resources,
    submission_of,
)
from flowyml.runtime.executors.vertex_machines import MachineRefused, worker_machine
from flowyml.runtime.executors.vertex_request import custom_job

__all__ = ["VertexStrategy", "VertexTarget", "check", "create", "request_for", "vertex_target"]

KIND = "vertex_ai"
POLL = 2.0
"""Seconds before the first look at a job; doubled after each look, up to :data:`POLL_MAX`."""
POLL_MAX = 30.0
_FINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
_RUNNING = {"JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"}


@dataclass(frozen=True)
class VertexTarget:
    """Where a stack's jobs go: project, region, API endpoint, runner service account."""

    project: str
    region: str
    endpoint: str
    service_account: str | None


def vertex_target(bound: Any) -> VertexTarget:
    """The project, region, endpoint and service account of ``bound``'s jobs."""
    outputs = bound.outputs
    declared = bound.executor
    recorded = outputs.get if outputs is not None else (lambda _key, default=None: default)
    region = str(recorded(REGION) or getattr(declared, "region", None) or "us-central1")
    project = str(recorded(PROJECT_ID) or getattr(declared, "project_id", ""))
    endpoint = str(recorded(EXECUTOR_ENDPOINT) or f"https://{region}-aiplatform.googleapis.com")
    account = getattr(declared, "service_account", None) or recorded(SERVICE_ACCOUNT)
    return VertexTarget(project, region, endpoint, str(account) if account else None)


def console_links(job_name: str, project: str, region: str) -> dict[str, str]:
    """Links to a custom job and to its logs in the Cloud console."""
    job_id = job_name.rsplit("/", 1)[-1]
    query = quote(f'resource.type="ml_job"\nresource.labels.job_id="{job_id}"', safe="")
    return {
        "console": f"https://console.cloud.google.com/vertex-ai/locations/{region}/training/"
        f"{job_id}/cpu?project={project}",
        "logs": f"https://console.cloud.google.com/logs/query;query={query}?project={project}",
    }


def _job_env(bound: Any) -> dict[str, str]:
    env = step_environment(bound.submission, bound.artifact_store, passthrough=False)
    # Endpoint and emulator settings travel; credentials never do (the job runs as the runner
    # service account).
    import os

    for name in PASSTHROUGH_ENV:
        if name not in SECRET_ENV and os.environ.get(name):
            env[name] = os.environ[name]
    return env


def request_for(bound: Any, attempt: StepAttempt, task_uri: str, *, image: str) -> Any:
    """The CustomJob of ``attempt`` on ``bound`` (what the strategy submits; dry runs print it)."""
    target = vertex_target(bound)
    resources = step_resources(attempt, getattr(bound.declaration, "resources", None))
    machine = worker_machine(resources, target.region)
    from flowyml.runtime.executors.kubernetes_manifest import label_value

    root = bound.artifact_store.root_uri.rstrip("/")
    return custom_job(
        task_uri,
        image,
        display_name=f"flowyml-{attempt.pipeline}-{attempt.step}-{attempt.attempt}"[:128],
        machine=machine,
        resources=resources,
        env=_job_env(bound) if bound.submission is not None else {},
        labels={
            "flowyml-run": label_value(attempt.run_id).lower(),
            "flowyml-step": label_value(attempt.step).lower().replace(".", "-"),
            "flowyml-attempt": str(attempt.attempt),
        },
        service_account=target.service_account,
        staging_uri=f"{root}/_vertex/{attempt.output_key}/{attempt.attempt}"
        if root.startswith("gs://")
        else None,
        timeout=attempt.timeout,
    )


@dataclass
class _Job:
    name: str | None = None
    started: float | None = None
    abandoned: bool = False


class VertexStrategy:
    """Runs each attempt as a Vertex AI CustomJob (module docstring).

    Args:
        bound: The bound stack (artifact store, executor declaration, submission, outputs).
        client: A ``google.cloud.aiplatform_v1.JobServiceClient``.
        capacity: Jobs running at once.
    """

    kind = KIND
    needs_values = False
    timeout_note = "its custom job was cancelled"

    def __init__(self, bound: Any, client: Any, capacity: int) -> None:
        self._submission = submission_of(bound, "Vertex AI")
        self.capacity = max(1, capacity)
        self._bound = bound
        self._client = client
        self._store = bound.artifact_store
        self._target = vertex_target(bound)
        self._parent = f"projects/{self._target.project}/locations/{self._target.region}"
        self._lock = threading.Lock()
        self._jobs: dict[Future[Outcome], _Job] = {}

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        try:
            task = build_task(attempt, self._submission, self._store)
            task_uri = self._store.put_bytes(f"{task.key}/task.json", task.to_json())
            request = request_for(self._bound, attempt, task_uri, image=self._submission.image)
        except Exception as exc:
            future.set_result(Outcome(error=f"cannot submit step '{attempt.step}': {exc}"))
            return future
        job = _Job()
        with self._lock:
            self._jobs[future] = job
        threading.Thread(
            target=self._drive,
            args=(future, job, attempt, task, request),
            name=f"flowyml-vertex-{attempt.step}",
            daemon=True,
        ).start()
        return future

    def _drive(
        self, future: Future[Outcome], job: _Job, attempt: StepAttempt, task: Any, request: Any
    ) -> None:
        try:
            outcome = self._run(job, attempt, task, request)
        except Exception as exc:
            outcome = Outcome(
                error=f"Vertex AI failed running step '{attempt.step}' in {self._parent}: "
                f"{type(exc).__name__}: {first_line(exc)}",
                executor=KIND,
            )
        with self._lock:
            self._jobs.pop(future, None)
        if not future.done() and not job.abandoned:
            future.set_result(outcome)

    def _run(self, job: _Job, attempt: StepAttempt, task: Any, request: Any) -> Outcome:
        created = self._client.create_custom_job(parent=self._parent, custom_job=request)
        job.name = created.name
        if job.abandoned:  # given up on while it was being created
            self._cancel(job.name)
        spec = request.job_spec.worker_pool_specs[0].machine_spec
        details: dict[str, Any] = {
            "job": created.name,
            "region": self._target.region,
            "machine_type": spec.machine_type,
            "image": self._submission.image,
            **console_links(created.name, self._target.project, self._target.region),
        }
        if spec.accelerator_count:
            details["accelerator"] = f"{spec.accelerator_type.name} x{spec.accelerator_count}"
        wait = POLL
        current = created
        while current.state.name not in _FINAL:
            time.sleep(wait)
            wait = min(POLL_MAX, wait * 2)
            current = self._client.get_custom_job(name=created.name)
            if job.started is None and current.state.name in _RUNNING:
                job.started = time.monotonic()
        state = current.state.name
        details["state"] = state
        result = read_result(self._store, task)
        failure = None
        if state == "JOB_STATE_FAILED":
            message = current.error.message or "no message"
            failure = f"Vertex AI job {created.name} failed: {message}"
            if result is not None and result.error:
                failure = f"{result.error.rstrip()}\n({failure})"
        elif state != "JOB_STATE_SUCCEEDED":
            failure = f"Vertex AI job {created.name} ended {state.removeprefix('JOB_STATE_')}"
        return result_outcome(
            result,
            kind=KIND,
            details=details,
            failure=failure,
            exited_ok=state == "JOB_STATE_SUCCEEDED",
            no_result=f"Vertex AI job {created.name} succeeded but step '{attempt.step}' "
            "recorded no result",
        )

    def _cancel(self, name: str | None) -> None:
        if name is None:
            return
        with contextlib.suppress(Exception):  # already over is fine
            self._client.cancel_custom_job(name=name)

    def started_at(self, future: Future[Outcome]) -> float | None:
        with self._lock:
            job = self._jobs.get(future)
        return job.started if job is not None else None

    def abandon(self, future: Future[Outcome]) -> None:
        with self._lock:
            job = self._jobs.pop(future, None)
        if job is not None:
            job.abandoned = True
            self._cancel(job.name)

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.abandoned = True
            self._cancel(job.name)


def client_for(target: VertexTarget) -> Any:
    """A JobServiceClient on the target's endpoint (REST; anonymous over ``http://``)."""
    from google.cloud.aiplatform_v1 import JobServiceClient

    if target.endpoint.startswith("http://"):
        from google.auth.credentials import AnonymousCredentials

        credentials: Any = AnonymousCredentials()
    else:
        import google.auth

        credentials, _project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    return JobServiceClient(
        credentials=credentials,
        transport="rest",
        client_options={"api_endpoint": target.endpoint},
    )


def check(bound: Any, steps: Sequence[Any]) -> None:
    """Refuse, before anything is built or submitted, what Vertex AI cannot run.

    The artifact store must be a ``gs://`` bucket (Vertex AI's machines reach nothing else
    without credentials flowyml would have to ship); each step's GPU must exist on its machine
    family and in the stack's region; its machine type must be one flowyml knows.
    """
    target = vertex_target(bound)
    root = bound.artifact_store.root_uri
    if not root.startswith("gs://"):
        raise BindingError(
            f"stack {bound.name} runs steps on Vertex AI but keeps artifacts at {root}, which "
            "Vertex AI's machines cannot reach",
            hint="give the stack a GCS artifact store (gs://...), as `flowyml stack up` provisions",
        )
    if not target.project:
        raise BindingError(
            f"stack {bound.name}: the Vertex AI executor names no project",
            hint="set project_id on the executor, or run `flowyml stack up` to record it",
        )
    defaults = getattr(bound.declaration, "resources", None)
    for step in steps:
        resources = step.resources_dict() if hasattr(step, "resources_dict") else None
        if not resources and defaults is not None:
            resources = defaults.model_dump(mode="json", exclude_none=True)
        try:
            worker_machine(resources, target.region)
        except MachineRefused as refused:
            raise BindingError(
                f"stack {bound.name}: step '{step.name}' cannot run on Vertex AI in "
                f"{target.region}: {refused.message}",
                hint=refused.hint,
            ) from None


def create(bound: Any, max_workers: int, use_processes: bool = False) -> VertexStrategy:
    """The Vertex AI strategy of ``bound`` (``use_processes`` is moot: every step is a job)."""
    return VertexStrategy(bound, client_for(vertex_target(bound)), max_workers)
