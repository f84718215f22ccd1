"""What a step's Job and pod say, read as one verdict: still going, done, or failed and why.

Pure functions over the API objects as JSON dicts (what ``ApiClient.sanitize_for_serialization``
gives, or a recorded ``kubectl get -o json``), so each reason is tested on recorded objects.
The rule the executor keeps with them: a run never stays ``running`` once its pod cannot make
progress. Every state a pod can be stuck in ends the attempt with the reason Kubernetes gave:

- ``ImagePullBackOff`` / ``ErrImagePull`` (past a grace period) / ``InvalidImageName``, with the
  image; ``CreateContainerConfigError`` (a missing Secret or ConfigMap), with its message;
- ``Unschedulable`` once the pod has waited ``pending_timeout`` seconds, with the scheduler's
  message (``0/3 nodes are available: 2 Insufficient nvidia.com/gpu``);
- ``OOMKilled`` (with the memory limit), ``Evicted`` (with the kubelet's message),
  ``DeadlineExceeded`` (the Job's ``activeDeadlineSeconds``), a spot/preemptible node
  reclaimed (``DisruptionTarget`` or a node shutdown), a Job or pod deleted by someone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Verdict", "pod_started", "verdict"]

_PULL_FAILURES = frozenset({"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
_CONFIG_FAILURES = frozenset({"CreateContainerConfigError", "CreateContainerError"})
_SHUTDOWN_REASONS = frozenset({"NodeShutdown", "Shutdown", "Terminated", "NodeLost"})


@dataclass(frozen=True)
class Verdict:
    """How an attempt ended, from its Job and pod.

    Attributes:
        state: ``succeeded`` or ``failed``.
        reason: One line for the step record (``None`` when it succeeded).
        exit_code: The container's exit code, when it ran.
    """

    state: Literal["succeeded", "failed"]
    reason: str | None = None
    exit_code: int | None = None


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in _get(obj, "status", "conditions") or []:
        if cond.get("type") == kind and str(cond.get("status")) == "True":
            return dict(cond)
    return None


def _container_status(pod: Mapping[str, Any] | None) -> Mapping[str, Any]:
    statuses = _get(pod, "status", "containerStatuses") or []
    return statuses[0] if statuses else {}


def pod_started(pod: Mapping[str, Any] | None) -> bool:
    """The pod's container is running or has run (the step's timeout clock starts)."""
    state = _container_status(pod).get("state") or {}
    return bool(state.get("running") or state.get("terminated"))


def _image(pod: Mapping[str, Any] | None) -> str:
    containers = _get(pod, "spec", "containers") or [{}]
    return str(containers[0].get("image") or _container_status(pod).get("image") or "?")


def verdict(
    job: Mapping[str, Any] | None,
    pod: Mapping[str, Any] | None,
    *,
    step: str,
    waited: float,
    pending_timeout: float,
    pull_grace: float = 60.0,
    memory_limit: str | None = None,
) -> Verdict | None:
    """The verdict on one attempt, or ``None`` while it may still make progress.

    Args:
        job: The attempt's Job (``None``: it no longer exists).
        pod: Its pod (``None``: none exists yet, or any more).
        step: The step's name, for the reason.
        waited: Seconds since the Job was created.
        pending_timeout: Seconds a pod may stay unschedulable (or a Job without a pod).
        pull_grace: Seconds ``ErrImagePull`` may last before it is final.
        memory_limit: The step's memory limit, for an OOM kill's reason.
    """
    if job is None:
        return Verdict("failed", f"the Job of step '{step}' was deleted before it finished")
    terminated = (_container_status(pod).get("state") or {}).get("terminated") or {}
    code = terminated.get("exitCode")
    code = int(code) if code is not None else None
    if terminated.get("reason") == "OOMKilled":
        limit = f" of {memory_limit}" if memory_limit else ""
        return Verdict(
            "failed",
            f"OOMKilled: step '{step}' used more memory than its limit{limit} and was killed "
            f"(exit code {code}).",
            code,
        )
    failed = _condition(job, "Failed")
    if failed is not None and failed.get("reason") == "DeadlineExceeded":
        return Verdict(
            "failed",
            f"DeadlineExceeded: step '{step}' ran past its Job's activeDeadlineSeconds "
            f"({_get(job, 'spec', 'activeDeadlineSeconds')} s) and was stopped by Kubernetes.",
            code,
        )
    reclaimed = _reclaimed(pod)
    if reclaimed is not None:
        return Verdict("failed", f"Preempted: step '{step}': {reclaimed}", code)
    if _get(pod, "status", "reason") == "Evicted":
        message = _get(pod, "status", "message") or "no message"
        return Verdict("failed", f"Evicted: step '{step}''s pod was evicted: {message}", code)
    phase = _get(pod, "status", "phase")
    if phase == "Succeeded" or (terminated and code == 0):
        return Verdict("succeeded", None, code)
    if phase == "Failed" or terminated:
        return Verdict("failed", None, code)
    if failed is not None:
        return Verdict(
            "failed",
            f"the Job of step '{step}' failed: {failed.get('reason')}: {failed.get('message')}",
            code,
        )
    if _condition(job, "Complete") is not None:
        return Verdict("succeeded", None, code)
    return _stuck(pod, step=step, waited=waited, pending_timeout=pending_timeout, grace=pull_grace)


def _reclaimed(pod: Mapping[str, Any] | None) -> str | None:
    """A reason when the pod's node went away (spot reclaim, node shutdown)."""
    if pod is None:
        return None
    disruption = _condition(pod, "DisruptionTarget")
    reason = _get(pod, "status", "reason")
    if disruption is None and reason not in _SHUTDOWN_REASONS:
        return None
    message = (disruption or {}).get("message") or _get(pod, "status", "message") or reason
    node = _get(pod, "spec", "nodeName")
    where = f" {node}" if node else ""
    return f"its pod's node{where} was reclaimed or shut down (spot/preemptible?): {message}"


def _stuck(
    pod: Mapping[str, Any] | None, *, step: str, waited: float, pending_timeout: float, grace: float
) -> Verdict | None:
    if pod is None:
        if waited > pending_timeout:
            return Verdict(
                "failed",
                f"no pod was created for step '{step}' in {pending_timeout:g} s (quota, an "
                "admission webhook or a missing service account?); see `kubectl describe job`",
            )
        return None
    waiting = (_container_status(pod).get("state") or {}).get("waiting") or {}
    why = waiting.get("reason")
    if why in _PULL_FAILURES or (why == "ErrImagePull" and waited > grace):
        message = waiting.get("message") or why
        return Verdict(
            "failed", f"{why}: the image {_image(pod)} of step '{step}' cannot be pulled: {message}"
        )
    if why in _CONFIG_FAILURES:
        return Verdict(
            "failed", f"{why}: the pod of step '{step}' cannot start: {waiting.get('message')}"
        )
    scheduled = next(
        (
            c
            for c in _get(pod, "status", "conditions") or []
            if c.get("type") == "PodScheduled" and str(c.get("status")) == "False"
        ),
        None,
    )
    if scheduled is not None and waited > pending_timeout:
        return Verdict(
            "failed",
            f"Unschedulable: the pod of step '{step}' was not scheduled in {pending_timeout:g} s: "
            f"{scheduled.get('message') or scheduled.get('reason')}",
        )
    return None
