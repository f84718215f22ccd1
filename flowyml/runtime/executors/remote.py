"""What every strategy that runs steps away from the driver shares: the task, the environment,
the result and its outcome.

A remote strategy (Docker, Kubernetes, Vertex AI) writes a :class:`StepTask` into the artifact
store, starts ``python3 -m flowyml.entrypoint TASK_URI`` where the step runs, and, once that is
over, reads the :class:`StepResult` next to the task. Only how the process is started and
watched differs; this module is the rest, so the task, the environment and the mapping of a
result to an :class:`Outcome` are spelled once.

Invariants:
- Secrets never travel in a task or in the step's environment built here: storage options that
  hold one are dropped (credentials come from the SDKs' standard variables or the workload's
  identity).
- A step that ended without a result record fails with the reason the strategy saw (exit code,
  last lines of output), never as a success.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flowyml.pipeline.executors import Outcome, StepAttempt
from flowyml.runtime.submission import Submission, locate_step
from flowyml.runtime.tasks import STORAGE_OPTIONS_ENV, StepResult, StepTask, encode_call

__all__ = [
    "ENTRYPOINT",
    "PASSTHROUGH_ENV",
    "LineEcho",
    "build_task",
    "check_steps",
    "first_line",
    "keep_tail",
    "public_options",
    "read_result",
    "result_outcome",
    "step_environment",
    "step_resources",
    "submission_of",
]

ENTRYPOINT = ("python3", "-m", "flowyml.entrypoint")
"""The command every remote step runs, followed by its task URI."""

# Standard credential/endpoint variables of the storage SDKs, passed through when set.
PASSTHROUGH_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "STORAGE_EMULATOR_HOST",
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT",
    "GOOGLE_CLOUD_PROJECT",
    "AZURE_STORAGE_CONNECTION_STRING",
)
SECRET_ENV = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_STORAGE_CONNECTION_STRING",
    }
)
"""Of :data:`PASSTHROUGH_ENV`, the variables holding a secret (Kubernetes puts them in a Secret)."""

# fsspec options that may hold a secret: never put in a step's environment.
_SECRET_OPTIONS = frozenset(
    {"connection_string", "account_key", "key", "secret", "password", "sas_token", "credential"}
)


def public_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Storage options without secrets (credentials come from the environment there)."""
    public = {k: v for k, v in options.items() if k not in _SECRET_OPTIONS}
    if public.get("token") not in (None, "anon"):
        public.pop("token")
    return public


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def submission_of(bound: Any, what: str) -> Submission:
    """The run's submission on ``bound``, refusing a binding the run facade did not prepare.

    Raises:
        TypeError: no submission (the stack was bound without :mod:`flowyml.launch`).
    """
    submission = bound.submission
    if not isinstance(submission, Submission):
        raise TypeError(f"a {what} strategy needs the run's submission (see flowyml.launch)")
    return submission


class _StepView:
    """The two attributes :func:`locate_step` reads, from an attempt."""

    def __init__(self, attempt: StepAttempt) -> None:
        self.func = attempt.func
        self.name = attempt.step


def check_steps(bound: Any, steps: Any) -> None:
    """Run the executor's own refusals for ``steps`` (GPU type, machine type, cluster access),
    before any image is built: the runtime module's ``check(bound, steps)``, when it has one.

    Raises:
        BindingError: one line saying what cannot run and how to fix it.
    """
    from flowyml.runtime.executors import load_runtime

    check = getattr(load_runtime(bound.executor_flavor), "check", None)
    if check is not None:
        check(bound, steps)


def build_task(attempt: StepAttempt, submission: Submission, store: Any) -> StepTask:
    """The task the entrypoint runs for ``attempt`` (the step found in the code package)."""
    location = locate_step(_StepView(attempt), submission.code_root)
    return StepTask(
        run_id=attempt.run_id,
        pipeline=attempt.pipeline,
        step=attempt.step,
        attempt=attempt.attempt,
        artifact_root=store.root_uri,
        code_uri=submission.code_uri,
        source=location.source,
        module=location.module,
        qualname=location.qualname,
        call=encode_call(attempt.arguments, attempt.inputs),
        output_names=attempt.output_names,
        output_key=attempt.output_key,
    )


def step_environment(
    submission: Submission, store: Any, *, passthrough: bool = True
) -> dict[str, str]:
    """Variables every step process gets: SDK variables set here (``passthrough``), the Docker
    settings' ``env_vars``, the store's public options and unbuffered output."""
    env: dict[str, str] = {}
    if passthrough:
        env = {name: os.environ[name] for name in PASSTHROUGH_ENV if os.environ.get(name)}
    env.update(submission.environment)
    env[STORAGE_OPTIONS_ENV] = json.dumps(public_options(store.storage_options))
    env["PYTHONUNBUFFERED"] = "1"  # output streams live, not at exit
    return env


def step_resources(attempt: StepAttempt, defaults: Any) -> Mapping[str, Any] | None:
    """The attempt's ResourceConfig dict, else the stack's ``resources``, else ``None``."""
    if attempt.resources:
        return attempt.resources
    if defaults is not None:
        dumped: dict[str, Any] = defaults.model_dump(mode="json", exclude_none=True)
        return dumped
    return None


def read_result(store: Any, task: StepTask) -> StepResult | None:
    """The result the entrypoint recorded for ``task``, or ``None`` when there is none."""
    raw = store.get_bytes(store.uri_of(f"{task.key}/result.json"))
    return StepResult.from_json(raw) if raw is not None else None


def result_outcome(
    result: StepResult | None,
    *,
    kind: str,
    details: dict[str, Any],
    failure: str | None = None,
    exited_ok: bool = True,
    no_result: str = "",
    log_uri: str | None = None,
) -> Outcome:
    """The outcome of an attempt from its result record and what the strategy saw.

    Args:
        result: The entrypoint's record (``None``: it wrote none).
        kind: The executor kind, recorded on the step.
        details: Where it ran (container, pod, job, console link).
        failure: A reason the strategy found itself (OOM kill, eviction...), which wins.
        exited_ok: The process ended with exit code 0 (or the platform said it succeeded).
        no_result: The reason to give when there is no result record.
        log_uri: The log to point at when the result names none.
    """
    if result is not None:
        log_uri = result.log_uri or log_uri
        if result.host:
            details.setdefault("host", result.host)
    if failure is not None:
        return Outcome(error=failure, log_uri=log_uri, executor=kind, details=details)
    if result is not None and result.status == "completed" and exited_ok:
        return Outcome(outputs=result.outputs, log_uri=log_uri, executor=kind, details=details)
    error = result.error if result is not None and result.error else no_result
    return Outcome(error=error, log_uri=log_uri, executor=kind, details=details)


def keep_tail(store: Any, task: StepTask, tail: list[str]) -> str | None:
    """Save the last output lines as the attempt's log, when the entrypoint kept none."""
    if not tail:
        return None
    try:
        uri: str = store.put_bytes(f"{task.key}/log.txt", ("\n".join(tail) + "\n").encode("utf-8"))
    except Exception:
        return None
    return uri


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


class LineEcho:
    """Writes a step's output to stderr line by line, prefixed with the step name; keeps the
    last 20 lines (``tail``) for a failure that left no result."""

    _lock = threading.Lock()

    def __init__(self, step: str, write: Callable[[str], None] = _stderr) -> None:
        self._prefix = f"[{step}] "
        self._write = write
        self._partial = ""
        self.tail: list[str] = []

    def feed(self, chunk: bytes) -> None:
        """Echo the complete lines of ``chunk`` (a partial last line waits for the next)."""
        text = self._partial + chunk.decode("utf-8", errors="replace")
        *lines, self._partial = text.split("\n")
        for line in lines:
            self._emit(line)

    def close(self) -> None:
        """Echo what is left of a last line without a newline."""
        if self._partial:
            self._emit(self._partial)
            self._partial = ""

    def _emit(self, line: str) -> None:
        self.tail = [*self.tail[-19:], line]
        with self._lock:
            self._write(self._prefix + line + "\n")


stderr_echo = _stderr
"""The default echo target: this process's stderr."""
