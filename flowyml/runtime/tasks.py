"""The contract between a driver and the step entrypoint: task and result records.

A driver that runs a step away from itself (a container, a pod, a cloud job, an orchestrator's
task) writes a :class:`StepTask` as JSON into the stack's artifact store and starts
``python -m flowyml.entrypoint TASK_URI`` wherever the step runs. The entrypoint needs nothing
but artifact-store access: it fetches the code package, imports the step, loads its inputs by
reference, runs it, saves its outputs, its captured log and a :class:`StepResult` next to the
task. Whoever drives the run (the driver, or for an unwatched scheduled run the orchestrator's
last task) reads the results and writes the metadata store.

Layout under the artifact root, per attempt::

    <pipeline>/<run_id>/<step>/<output><ext>             outputs (as on every stack)
    <pipeline>/<run_id>/<step>/_attempts/<n>/task.json    this task
    <pipeline>/<run_id>/<step>/_attempts/<n>/log.txt      captured stdout + stderr
    <pipeline>/<run_id>/<step>/_attempts/<n>/result.json  the result record
    _code/<sha256>.tar.gz                                 code packages (content-addressed)

The arguments travel pickled (base64) with the step's upstream outputs as handles, which the
entrypoint replaces by the values it loads from their refs: input payloads never pass through
the task.
"""

from __future__ import annotations

import base64
import json
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from flowyml.core.records import ArtifactRef

TASK_VERSION = 1
STORAGE_OPTIONS_ENV = "FLOWYML_STORAGE_OPTIONS"
"""Environment variable holding the artifact store's fsspec options as JSON (no secrets:
credentials come from the environment or the workload's identity)."""


def attempt_key(output_key: str, attempt: int) -> str:
    """``<output_key>/_attempts/<attempt>``: where one attempt's records live."""
    return f"{output_key}/_attempts/{attempt}"


@dataclass(frozen=True)
class StepTask:
    """What the entrypoint needs to run one attempt of one step.

    Attributes:
        run_id / pipeline / step / attempt: Which run, pipeline, invocation and try.
        artifact_root: Root URI of the artifact store the step reads and writes.
        code_uri: URI of the code package (``None``: the step's module is importable as is).
        source: Path of the step's file inside the code package (``""``: import ``module``).
        module: The step function's module name on the driver (kept for pickles).
        qualname: The step's qualified name in that module.
        call: Base64 pickle of ``{"arguments": ..., "inputs": [(handle, ref dict)...]}``.
        output_names: The step's outputs.
        output_key: Key prefix of its outputs (``<pipeline>/<run_id>/<step>``).
        version: Task format version.
    """

    run_id: str
    pipeline: str
    step: str
    attempt: int
    artifact_root: str
    code_uri: str | None
    source: str
    module: str
    qualname: str
    call: str
    output_names: tuple[str, ...]
    output_key: str
    version: int = TASK_VERSION

    @property
    def key(self) -> str:
        """Key of this attempt's records (see the module docstring)."""
        return attempt_key(self.output_key, self.attempt)

    def to_json(self) -> bytes:
        """The task as JSON bytes."""
        data = asdict(self)
        data["output_names"] = list(self.output_names)
        return json.dumps(data, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> StepTask:
        """Parse a task written by :meth:`to_json`.

        Raises:
            ValueError: not a task, or one of a newer format.
        """
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != TASK_VERSION:
            raise ValueError(
                f"unsupported step task (version {data.get('version') if isinstance(data, dict) else '?'}; "
                f"this flowyml reads version {TASK_VERSION})"
            )
        data["output_names"] = tuple(data["output_names"])
        return cls(**data)


def encode_call(arguments: Mapping[str, Any], inputs: tuple[tuple[Any, ArtifactRef], ...]) -> str:
    """Pickle the arguments (handles in place) and the inputs' refs for a task."""
    payload = {
        "arguments": dict(arguments),
        "inputs": [(handle, asdict(ref)) for handle, ref in inputs],
    }
    return base64.b64encode(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)).decode()


def decode_call(call: str) -> tuple[dict[str, Any], list[tuple[Any, ArtifactRef]]]:
    """The arguments and ``(handle, ref)`` inputs of :func:`encode_call`."""
    payload = pickle.loads(base64.b64decode(call))  # written by our own driver
    inputs = [(handle, ArtifactRef(**ref)) for handle, ref in payload["inputs"]]
    return payload["arguments"], inputs


@dataclass(frozen=True)
class StepResult:
    """What one attempt did, as the entrypoint records it.

    Attributes:
        status: ``completed`` or ``failed``.
        outputs: Output name -> ref (on success).
        error: Traceback text (on failure).
        started_at / ended_at: ISO-8601 UTC times of the step function's call.
        log_uri: Where its captured stdout/stderr is.
        host: The machine (container, pod) it ran on.
        startup_s: Seconds from process start to the step function's call (inputs loaded).
    """

    status: str
    outputs: Mapping[str, ArtifactRef] = field(default_factory=dict)
    error: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    log_uri: str | None = None
    host: str | None = None
    startup_s: float | None = None

    def to_json(self) -> bytes:
        """The result as JSON bytes."""
        data = asdict(self)
        data["outputs"] = {name: asdict(ref) for name, ref in self.outputs.items()}
        return json.dumps(data, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> StepResult:
        """Parse a result written by :meth:`to_json`."""
        data = json.loads(raw)
        data["outputs"] = {name: ArtifactRef(**ref) for name, ref in data["outputs"].items()}
        return cls(**data)
