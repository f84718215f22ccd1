"""Steps in Kubernetes pods: one Job per step attempt in the stack's namespace.

Each attempt writes its task to the artifact store and creates a Job
(:func:`~flowyml.runtime.executors.kubernetes_manifest.job_manifest`) running
``python3 -m flowyml.entrypoint TASK_URI`` in the run's image, as the stack's service account.
One watcher thread per run lists the run's Jobs and pods (by label) every ``poll`` seconds and
reads each attempt's verdict (:mod:`~flowyml.runtime.executors.kubernetes_watch`); a started
pod's output streams live to stderr, prefixed with the step name.

Invariants:
- ``backoffLimit: 0``: flowyml retries, so every attempt is its own Job and its own record.
- A run never stays ``running`` after its pods are gone or stuck: every verdict ends the
  attempt with Kubernetes' reason (image pull, unschedulable past ``pending_timeout``, OOM,
  eviction, deadline, spot reclaim, a Job or pod deleted by someone else).
- A finished, timed-out or abandoned attempt's Job is deleted with its pods; ``shutdown`` (end
  of run, Ctrl-C) deletes every Job and Secret of the run; ``ttlSecondsAfterFinished`` collects
  them even when the driver died.
- Secret values (credentials shipped when the stack has no workload identity, secret-looking
  Docker ``env_vars``) travel in a per-run Secret the pod loads with ``envFrom``, never in the
  Job; on GKE/EKS stacks no credential of this machine is shipped: pods use the stack's
  Workload Identity / IRSA service account.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flowyml.pipeline.executors import Outcome, StepAttempt
from flowyml.runtime.executors import kubernetes_manifest as manifests
from flowyml.runtime.executors.kubernetes_access import ClusterTarget, api_client, cluster_target
from flowyml.runtime.executors.kubernetes_checks import check
from flowyml.runtime.executors.kubernetes_watch import Verdict, pod_started, verdict
from flowyml.runtime.executors.remote import (
    ENTRYPOINT,
    PASSTHROUGH_ENV,
    SECRET_ENV,
    LineEcho,
    build_task,
    keep_tail,
    read_result,
    result_outcome,
    stderr_echo,
    step_environment,
    step_resources,
    submission_of,
)
from flowyml.runtime.tasks import StepTask

__all__ = ["KubernetesStrategy", "check", "create", "job_for"]

KIND = "kubernetes"
PENDING_TIMEOUT = 300.0
"""Seconds a step's pod may wait to be scheduled (or its Job for a pod) before it fails."""
POLL = 1.0
"""Most seconds between two looks at the run's Jobs and pods."""
FIRST_LOOK = 0.01
"""Seconds before the first look after a change; times BACKOFF after each quiet look, up to POLL."""
BACKOFF = 1.25
LABEL_JOB = "flowyml.org/job"
_SECRET_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|CONNECTION_STRING)", re.I)


@dataclass
class _Tracked:
    attempt: StepAttempt
    task: StepTask
    name: str
    created: float
    echo: LineEcho
    memory: str | None
    created_ok: bool = False
    started: float | None = None
    pod: str | None = None
    seen_pod: bool = False
    abandoned: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    log_thread: threading.Thread | None = None


def _api_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if body:
        with contextlib.suppress(ValueError, TypeError):
            message = json.loads(body).get("message")
            if message:
                return str(message)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def job_for(
    bound: Any, attempt: StepAttempt, task_uri: str, *, image: str, secret_name: str | None = None
) -> dict[str, Any]:
    """The Job manifest of ``attempt`` on ``bound`` (what the strategy submits; dry runs print it)."""
    target = cluster_target(bound)
    name = manifests.job_name(attempt.run_id, attempt.step, attempt.attempt)
    resources = step_resources(attempt, getattr(bound.declaration, "resources", None))
    env = _public_env(bound, target)
    return manifests.job_manifest(
        task_uri,
        image,
        name=name,
        namespace=target.namespace,
        resources=resources,
        service_account=target.service_account,
        labels={
            manifests.LABEL_RUN: attempt.run_id,
            manifests.LABEL_STEP: manifests.label_value(attempt.step),
            manifests.LABEL_ATTEMPT: str(attempt.attempt),
            LABEL_JOB: name,
        },
        env=env,
        secret_name=secret_name,
        timeout=attempt.timeout,
        provider=target.provider,
        volume=target.volume,
        command=ENTRYPOINT,
    )


def _split_env(bound: Any, target: ClusterTarget) -> tuple[dict[str, str], dict[str, str]]:
    """(public, secret) variables of the run's step pods."""
    env = step_environment(bound.submission, bound.artifact_store, passthrough=False)
    public: dict[str, str] = {}
    secret: dict[str, str] = {}
    for name, value in env.items():
        (secret if _SECRET_NAME.search(name) else public)[name] = value
    if not target.identity:
        for name in PASSTHROUGH_ENV:
            given = os.environ.get(name)
            if given:
                (secret if name in SECRET_ENV else public)[name] = given
    return public, secret


def _public_env(bound: Any, target: ClusterTarget) -> dict[str, str]:
    if bound.submission is None:
        return {}
    return _split_env(bound, target)[0]


class KubernetesStrategy:
    """Runs each attempt as a Kubernetes Job (module docstring).

    Args:
        bound: The bound stack (artifact store, executor declaration, submission, outputs).
        api: A ``kubernetes.client.ApiClient`` for the cluster.
        capacity: Jobs running at once.
        poll: Seconds between looks at the run's Jobs and pods.
        pending_timeout: Seconds a pod may stay unschedulable.
        echo: Where prefixed pod output goes (stderr by default).
    """

    kind = KIND
    needs_values = False
    timeout_note = "its Job was deleted"

    def __init__(
        self,
        bound: Any,
        api: Any,
        capacity: int,
        *,
        poll: float = POLL,
        pending_timeout: float = PENDING_TIMEOUT,
        echo: Callable[[str], None] = stderr_echo,
    ) -> None:
        from kubernetes import client

        self._submission = submission_of(bound, "Kubernetes")
        self.capacity = max(1, capacity)
        self._bound = bound
        self._api = api
        self._core = client.CoreV1Api(api)
        self._batch = client.BatchV1Api(api)
        self._target = cluster_target(bound)
        self._namespace = self._target.namespace
        self._store = bound.artifact_store
        self._poll = poll
        self._pending_timeout = pending_timeout
        self._echo = echo
        self._lock = threading.Lock()
        self._tracked: dict[Future[Outcome], _Tracked] = {}
        self._runs: set[str] = set()
        self._secrets: dict[str, str | None] = {}  # run id -> its Secret's name (None: none)
        self._creator = ThreadPoolExecutor(max_workers=8, thread_name_prefix="flowyml-k8s-create")
        self._watcher: threading.Thread | None = None
        self._stopped = threading.Event()
        self._wake = threading.Event()  # set when a Job was created: look now
        self._changed = False
        self.api_seconds = 0.0  # time spent in API calls (create, list, delete): the benchmark's

    # -- submitting ---------------------------------------------------------------------------

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_running_or_notify_cancel()
        try:
            task = build_task(attempt, self._submission, self._store)
            task_uri = self._store.put_bytes(f"{task.key}/task.json", task.to_json())
        except Exception as exc:
            future.set_result(Outcome(error=f"cannot submit step '{attempt.step}': {exc}"))
            return future
        resources = step_resources(attempt, getattr(self._bound.declaration, "resources", None))
        tracked = _Tracked(
            attempt=attempt,
            task=task,
            name=manifests.job_name(attempt.run_id, attempt.step, attempt.attempt),
            created=time.monotonic(),
            echo=LineEcho(attempt.step, self._echo),
            memory=str((resources or {}).get("memory") or manifests.DEFAULT_RESOURCES["memory"]),
        )
        with self._lock:
            self._tracked[future] = tracked
            self._runs.add(attempt.run_id)
        self._creator.submit(self._create, future, tracked, task_uri)
        self._ensure_watcher()
        return future

    def _timed(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            with self._lock:
                self.api_seconds += time.perf_counter() - start

    def _secret_for(self, run_id: str) -> str | None:
        with self._lock:
            if run_id in self._secrets:
                return self._secrets[run_id]
        _public, secret = _split_env(self._bound, self._target)
        name = None
        if secret:
            name = f"flowyml-env-{hashlib.sha256(run_id.encode()).hexdigest()[:12]}"
            body = manifests.secret_manifest(
                name, self._namespace, secret, labels={manifests.LABEL_RUN: run_id}
            )
            try:
                self._timed(self._core.create_namespaced_secret, self._namespace, body)
            except Exception as exc:
                if getattr(exc, "status", None) != 409:  # already there: an earlier attempt's
                    raise
        with self._lock:
            self._secrets[run_id] = name
        return name

    def _create(self, future: Future[Outcome], tracked: _Tracked, task_uri: str) -> None:
        attempt = tracked.attempt
        try:
            secret = self._secret_for(attempt.run_id)
            body = job_for(
                self._bound, attempt, task_uri, image=self._submission.image, secret_name=secret
            )
            self._timed(self._batch.create_namespaced_job, self._namespace, body)
            tracked.created_ok = True
            with self._lock:
                self._changed = True
            self._wake.set()
        except Exception as exc:
            self._finish(
                future,
                tracked,
                Outcome(
                    error=f"Kubernetes refused the Job of step '{attempt.step}' in namespace "
                    f"{self._namespace}: {_api_message(exc)}",
                    executor=KIND,
                    details={"job": tracked.name, "namespace": self._namespace},
                ),
                delete=False,
            )

    # -- watching -----------------------------------------------------------------------------

    def _ensure_watcher(self) -> None:
        with self._lock:
            if self._watcher is not None and self._watcher.is_alive():
                return
            self._watcher = threading.Thread(
                target=self._watch, name="flowyml-k8s-watch", daemon=True
            )
            self._watcher.start()

    def _list(self, kind: str, run_id: str) -> list[dict[str, Any]]:
        call = self._batch.list_namespaced_job if kind == "job" else self._core.list_namespaced_pod
        response = self._timed(
            call,
            self._namespace,
            label_selector=f"{manifests.LABEL_RUN}={run_id}",
            _preload_content=False,
        )
        items = json.loads(response.data).get("items") or []
        # Filtered here too: the selector is the server's business, the run's Jobs are ours.
        return [
            i
            for i in items
            if (i["metadata"].get("labels") or {}).get(manifests.LABEL_RUN) == run_id
        ]

    def _watch(self) -> None:
        # Quick looks right after something changed (a Job created, a pod started or ended),
        # backing off to `poll`: short steps end promptly, long ones cost few API calls.
        quick = FIRST_LOOK
        while not self._stopped.is_set():
            with self._lock:
                live = {f: t for f, t in self._tracked.items() if t.created_ok and not t.abandoned}
                if not self._tracked:
                    self._watcher = None
                    return
                if self._changed:
                    self._changed = False
                    quick = FIRST_LOOK
            if live:
                # A flaky API call: look again next time.
                with contextlib.suppress(Exception):
                    if self._look(live):
                        quick = FIRST_LOOK
            self._wake.wait(min(self._poll, quick))
            self._wake.clear()
            quick *= BACKOFF

    def _look(self, live: Mapping[Future[Outcome], _Tracked]) -> bool:
        """One look at the run's Jobs and pods; True when an attempt started or ended."""
        runs = {t.attempt.run_id for t in live.values()}
        jobs: dict[str, dict[str, Any]] = {}
        pods: dict[str, dict[str, Any]] = {}
        for run_id in runs:
            for item in self._list("job", run_id):
                jobs[item["metadata"]["name"]] = item
            for item in self._list("pod", run_id):
                owner = (item["metadata"].get("labels") or {}).get(LABEL_JOB)
                if owner:
                    pods[owner] = item
        now = time.monotonic()
        changed = False
        for future, tracked in live.items():
            job, pod = jobs.get(tracked.name), pods.get(tracked.name)
            if pod is not None:
                tracked.seen_pod = True
                tracked.pod = pod["metadata"]["name"]
                if tracked.started is None and pod_started(pod):
                    tracked.started = now
                    changed = True
                    self._follow_logs(tracked)
            found = verdict(
                job,
                pod,
                step=tracked.attempt.step,
                waited=now - tracked.created,
                pending_timeout=self._pending_timeout,
                memory_limit=tracked.memory,
            )
            if found is None and pod is None and tracked.seen_pod:
                found = Verdict(
                    "failed",
                    f"the pod of step '{tracked.attempt.step}' was deleted before it finished",
                )
            if found is not None:
                threading.Thread(
                    target=self._collect, args=(future, tracked, found, pod), daemon=True
                ).start()
                with self._lock:
                    tracked.abandoned = True  # no more looks: it is being collected
                changed = True
        return changed

    # -- logs ---------------------------------------------------------------------------------

    def _follow_logs(self, tracked: _Tracked) -> None:
        thread = threading.Thread(
            target=self._stream_logs, args=(tracked,), name="flowyml-k8s-logs", daemon=True
        )
        tracked.log_thread = thread
        thread.start()

    def _read_log(self, tracked: _Tracked, follow: bool) -> list[str]:
        response = self._core.read_namespaced_pod_log(
            tracked.pod,
            self._namespace,
            container=manifests.CONTAINER,
            follow=follow,
            _preload_content=False,
        )
        chunks: list[bytes] = []
        try:
            for chunk in response.stream(4096):
                chunks.append(chunk)
        finally:
            response.release_conn()
        return b"".join(chunks).decode("utf-8", errors="replace").split("\n")

    def _stream_logs(self, tracked: _Tracked) -> None:
        # The whole log is read again after a dropped stream; lines already echoed are skipped.
        seen = 0
        while True:
            last = tracked.finished.is_set()
            try:
                lines = self._read_log(tracked, follow=not last)
            except Exception:
                lines = None
            if lines is not None:
                complete = lines[:-1] if lines and lines[-1] == "" else lines
                for line in complete[seen:]:
                    tracked.echo.feed((line + "\n").encode("utf-8"))
                seen = max(seen, len(complete))
            if last:
                return
            tracked.finished.wait(self._poll)

    # -- collecting ---------------------------------------------------------------------------

    def _collect(
        self,
        future: Future[Outcome],
        tracked: _Tracked,
        found: Verdict,
        pod: Mapping[str, Any] | None,
    ) -> None:
        tracked.finished.set()
        if tracked.log_thread is not None:
            tracked.log_thread.join(timeout=10)
        attempt = tracked.attempt
        details: dict[str, Any] = {
            "job": tracked.name,
            "namespace": self._namespace,
            "image": self._submission.image,
        }
        if tracked.pod:
            details["pod"] = tracked.pod
        node = (pod or {}).get("spec", {}).get("nodeName")
        if node:
            details["node"] = node
        if found.exit_code is not None:
            details["exit_code"] = found.exit_code
        try:
            result = read_result(self._store, tracked.task)
        except Exception:
            result = None
        last = "\n".join(tracked.echo.tail[-5:])
        code = found.exit_code
        outcome = result_outcome(
            result,
            kind=KIND,
            details=details,
            failure=found.reason if found.state == "failed" else None,
            exited_ok=found.state == "succeeded",
            no_result=f"step '{attempt.step}' pod exited with code {code} before recording a "
            "result" + (f"; its last output:\n{last}" if last else "."),
            log_uri=None
            if result is not None
            else keep_tail(self._store, tracked.task, tracked.echo.tail),
        )
        self._finish(future, tracked, outcome)

    def _finish(
        self, future: Future[Outcome], tracked: _Tracked, outcome: Outcome, *, delete: bool = True
    ) -> None:
        tracked.finished.set()
        with self._lock:
            self._tracked.pop(future, None)
        if not future.done():
            future.set_result(outcome)
        # Cleanup after the outcome: the loop moves on meanwhile; shutdown deletes whatever of
        # the run is still there, so nothing outlives the run either way.
        if delete:
            self._delete_job(tracked.name, tracked.pod)

    def _delete_job(self, name: str, pod: str | None = None) -> None:
        from kubernetes.client import V1DeleteOptions

        with contextlib.suppress(Exception):  # already gone is fine
            self._timed(
                self._batch.delete_namespaced_job,
                name,
                self._namespace,
                body=V1DeleteOptions(propagation_policy="Background"),
            )
        # Pods go with their Job (background propagation); deleted here too so none outlives
        # the run on a cluster whose garbage collector lags.
        names = [pod] if pod else []
        if not names:
            with contextlib.suppress(Exception):
                found = self._timed(
                    self._core.list_namespaced_pod,
                    self._namespace,
                    label_selector=f"{LABEL_JOB}={name}",
                    _preload_content=False,
                )
                names = [
                    p["metadata"]["name"]
                    for p in json.loads(found.data).get("items") or []
                    if (p["metadata"].get("labels") or {}).get(LABEL_JOB) == name
                ]
        for each in names:
            with contextlib.suppress(Exception):
                self._timed(
                    self._core.delete_namespaced_pod, each, self._namespace, grace_period_seconds=0
                )

    # -- the loop's side ----------------------------------------------------------------------

    def started_at(self, future: Future[Outcome]) -> float | None:
        with self._lock:
            tracked = self._tracked.get(future)
        return tracked.started if tracked is not None else None

    def abandon(self, future: Future[Outcome]) -> None:
        with self._lock:
            tracked = self._tracked.pop(future, None)
        if tracked is not None:
            tracked.abandoned = True
            tracked.finished.set()
            self._delete_job(tracked.name)

    def shutdown(self) -> None:
        self._stopped.set()
        self._wake.set()
        with self._lock:
            tracked = list(self._tracked.values())
            self._tracked.clear()
            runs = set(self._runs)
            secrets = [s for s in self._secrets.values() if s]
        self._creator.shutdown(wait=True)  # a Job being created is created, then deleted below
        for item in tracked:
            item.finished.set()
        for run_id in runs:  # every Job of the run, also any the snapshot missed
            with contextlib.suppress(Exception):
                for job in self._list("job", run_id):
                    self._delete_job(job["metadata"]["name"])
        for name in secrets:
            with contextlib.suppress(Exception):
                self._timed(self._core.delete_namespaced_secret, name, self._namespace)


def create(bound: Any, max_workers: int, use_processes: bool = False) -> KubernetesStrategy:
    """The Kubernetes strategy of ``bound`` (``use_processes`` is moot: every step is a pod)."""
    pending = getattr(bound.executor, "pending_timeout", None)
    return KubernetesStrategy(
        bound,
        api_client(bound),
        int(getattr(bound.executor, "max_workers", None) or max_workers),
        poll=POLL,
        pending_timeout=float(pending) if pending is not None else PENDING_TIMEOUT,
    )
