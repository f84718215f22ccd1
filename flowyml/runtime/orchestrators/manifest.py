"""The run manifest: everything an orchestrator's tasks need, written once per pipeline version.

An orchestrator (Vertex AI Pipelines, Kubeflow, Airflow) runs each step as its own task, at a
time no flowyml client may be watching (a schedule), and retries it itself. So the driver cannot
write one task record per attempt with its inputs' refs known, as executors do. It writes one
:class:`RunManifest` instead: per step, where its code is, its arguments (upstream outputs as
handles), its outputs, retries, timeout and resources. The compiled pipeline names the manifest
and each task's step; the entrypoint's manifest mode turns (manifest, step, run id) into an
ordinary :class:`~flowyml.runtime.tasks.StepTask`, resolving inputs from the upstream steps'
result records of the same run. The manifest is content-addressed, so recompiling an unchanged
pipeline names the same file and a schedule keeps working after the driver is gone.

Layout under the artifact root::

    _orchestrated/<pipeline>/manifests/<sha256>.json   manifests
    _orchestrated/<pipeline>/runs/<run_id>/started.json written by a run's first task
    _orchestrated/<pipeline>/runs/<run_id>/final.json   written by its finalize task
    _cache/<cache key>.json                             outputs of a completed step, by key
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from flowyml.pipeline.dag import substitute
from flowyml.runtime.submission import Submission, locate_step

MANIFEST_VERSION = 1
ROOT = "_orchestrated"


def pipeline_prefix(pipeline: str) -> str:
    """``_orchestrated/<pipeline>``."""
    return f"{ROOT}/{pipeline}"


def run_prefix(pipeline: str, run_id: str) -> str:
    """``_orchestrated/<pipeline>/runs/<run_id>``: a run's markers."""
    return f"{pipeline_prefix(pipeline)}/runs/{run_id}"


def cache_index_key(cache_key: str) -> str:
    """Where the outputs of a completed step with ``cache_key`` are indexed."""
    return f"_cache/{hashlib.sha256(cache_key.encode()).hexdigest()}.json"


def run_id_for(run_id: str, engine_run_id: str) -> str:
    """The flowyml run id of a task: the one the driver chose, else one derived from the engine's.

    A scheduled run has no flowyml client; every task of it sees the same engine run id
    (``{{$.pipeline_job_uuid}}``, Airflow's ``{{ run_id }}``), so all derive the same id.
    """
    if run_id:
        return run_id
    if not engine_run_id:
        raise ValueError("a task needs --run-id or --engine-run-id")
    return hashlib.sha256(engine_run_id.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ManifestStep:
    """One step invocation as its task runs it.

    Attributes:
        name: Invocation name (unique in the pipeline).
        source / module / qualname: Where the entrypoint finds the step (see ``locate_step``).
        call: Base64 pickle of ``{"arguments": ..., "handles": [OutputHandle...]}``.
        inputs: ``(label, upstream invocation, output)`` per input, in argument order.
        output_names: Its outputs.
        upstream: Invocations it depends on.
        retries: Extra attempts the engine makes after a failure.
        retry_delay: Seconds the engine waits before a retry.
        timeout: Seconds an attempt may run (``None``: no limit); the entrypoint enforces it.
        resources: The step's ResourceConfig (or the stack's) as a dict.
        cache: The step may be served from flowyml's cache.
    """

    name: str
    source: str
    module: str
    qualname: str
    call: str
    inputs: tuple[tuple[str, str, str], ...]
    output_names: tuple[str, ...]
    upstream: tuple[str, ...]
    retries: int = 0
    retry_delay: float = 0.0
    timeout: float | None = None
    resources: Mapping[str, Any] | None = None
    cache: bool = True


@dataclass(frozen=True)
class RunManifest:
    """A pipeline as an orchestrator runs it (module docstring).

    Attributes:
        pipeline: Pipeline name.
        stack: Stack name (recorded with each run).
        artifact_root: Root URI of the stack's artifact store.
        code_uri: The uploaded code package.
        image: Image every task runs in.
        environment: Variables every task gets (Docker settings; the store's public options).
        enable_cache: The pipeline's cache switch.
        params: Pipeline parameters (recorded with each run).
        steps: Steps in topological order.
    """

    pipeline: str
    stack: str
    artifact_root: str
    code_uri: str
    image: str
    environment: Mapping[str, str]
    enable_cache: bool
    params: Mapping[str, Any]
    steps: tuple[ManifestStep, ...]
    version: int = MANIFEST_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def step(self, name: str) -> ManifestStep:
        """The step named ``name``.

        Raises:
            KeyError: no such step in this manifest.
        """
        for found in self.steps:
            if found.name == name:
                return found
        raise KeyError(f"pipeline {self.pipeline} has no step {name!r}")

    def to_json(self) -> bytes:
        """The manifest as canonical JSON bytes (its hash is its address)."""
        return json.dumps(asdict(self), sort_keys=True, default=str).encode("utf-8")

    @property
    def key(self) -> str:
        """Its content-addressed key under the artifact root."""
        digest = hashlib.sha256(self.to_json()).hexdigest()
        return f"{pipeline_prefix(self.pipeline)}/manifests/{digest}.json"

    @classmethod
    def from_json(cls, raw: bytes) -> RunManifest:
        """Parse :meth:`to_json` output.

        Raises:
            ValueError: not a manifest, or one of another format version.
        """
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise ValueError(
                f"unsupported run manifest (this flowyml reads version {MANIFEST_VERSION})"
            )
        steps = tuple(
            ManifestStep(
                **{
                    **s,
                    "inputs": tuple(tuple(i) for i in s["inputs"]),
                    "output_names": tuple(s["output_names"]),
                    "upstream": tuple(s["upstream"]),
                }
            )
            for s in data.pop("steps")
        )
        return cls(**data, steps=steps)


def encode_arguments(arguments: Mapping[str, Any], handles: Sequence[Any]) -> str:
    """Pickle a step's arguments and its input handles (one pickle: handles stay equal)."""
    payload = {"arguments": dict(arguments), "handles": list(handles)}
    return base64.b64encode(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)).decode()


def decode_arguments(call: str) -> tuple[dict[str, Any], list[Any]]:
    """The ``(arguments, handles)`` of :func:`encode_arguments`."""
    payload = pickle.loads(base64.b64decode(call))  # written by our own driver
    return payload["arguments"], payload["handles"]


def build_manifest(
    pipeline: Any,
    bound: Any,
    submission: Submission,
    environment: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
) -> RunManifest:
    """The manifest of ``pipeline`` on ``bound`` with its prepared ``submission``.

    Raises:
        BindingError: a step cannot be imported where it runs (see ``locate_step``).
    """
    defaults = getattr(bound.declaration, "resources", None)
    default_resources = (
        defaults.model_dump(mode="json", exclude_none=True) if defaults is not None else None
    )
    steps = []
    for name in pipeline.dag.names:
        inv = pipeline.dag[name]
        location = locate_step(inv.step, submission.code_root)
        # Handles carry the id of the builder that made them (a counter per process): the
        # manifest keeps them stable, so recompiling unchanged code names the same file.
        stable = {h: replace(h, builder_id=0) for _, h in inv.inputs}
        handles = [stable[h] for _, h in inv.inputs]
        arguments = {name: substitute(value, stable) for name, value in inv.arguments.items()}
        steps.append(
            ManifestStep(
                name=name,
                source=location.source,
                module=location.module,
                qualname=location.qualname,
                call=encode_arguments(arguments, handles),
                inputs=tuple((label, h.invocation, h.output) for label, h in inv.inputs),
                output_names=tuple(inv.output_names),
                upstream=tuple(inv.upstream),
                retries=int(inv.step.retries or 0),
                retry_delay=float(inv.step.retry_delay or 0),
                timeout=float(inv.step.timeout) if inv.step.timeout else None,
                resources=dict(inv.step.resources_dict() or default_resources or {}) or None,
                cache=bool(inv.step.cache),
            )
        )
    return RunManifest(
        pipeline=pipeline.name,
        stack=bound.name,
        artifact_root=bound.artifact_store.root_uri,
        code_uri=submission.code_uri,
        image=submission.image,
        environment=dict(environment),
        enable_cache=bool(pipeline.enable_cache),
        params=dict(params or {}),
        steps=tuple(steps),
    )


def write_manifest(manifest: RunManifest, store: Any) -> str:
    """Upload ``manifest`` (once: same content, same key); returns its URI."""
    uri = store.uri_of(manifest.key)
    if not store.has_uri(uri):
        uri = store.put_bytes(manifest.key, manifest.to_json())
    return str(uri)
