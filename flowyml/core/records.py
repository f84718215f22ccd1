"""Records of runs, steps and artifacts: what the runner writes and the metadata store keeps.

These are plain frozen values shared by the runner, every metadata store and the CLI renderers.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class RunStatus(str, Enum):
    """Status of a whole pipeline run."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


class StepStatus(str, Enum):
    """Status of one step invocation within a run."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ArtifactRef:
    """Where one saved value lives and how to load it back.

    Attributes:
        uri: Full URI of the payload (``file:///...``, ``s3://...``, ``gs://...``).
        type_name: Qualified name of the saved value's type, e.g. ``builtins.dict``.
        materializer: Name of the materializer that wrote it (``json``, ``bytes``, ``numpy``,
            ``pandas``, ``pickle``).
        size: Payload size in bytes.
        content_hash: ``sha256:<hex>`` of the payload bytes.
    """

    uri: str
    type_name: str
    materializer: str
    size: int
    content_hash: str


@dataclass(frozen=True)
class ArtifactRecord:
    """An artifact as the metadata store keeps it: the ref plus who produced it."""

    ref: ArtifactRef
    run_id: str
    step: str
    output_name: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class StepRecord:
    """One step invocation within a run.

    Attributes:
        run_id: The run this step belongs to.
        name: Unique invocation name within the run (``train``, ``train_2``, ...).
        status: Current status.
        started_at / ended_at: UTC times; ``None`` until known.
        cache_key: The step's cache key (``None`` when caching is off for it).
        cached: True when outputs were reused from an earlier run.
        error: Full original traceback text of the failure, if any.
        stack: Name of the stack the step ran on.
        resources: The step's ResourceConfig as a plain dict, if any.
        attempts: How many times the step was tried.
        outputs: Output name -> artifact ref.
        inputs: Consumed artifacts (lineage): input name -> artifact ref.
        upstream: Names of the steps this one depends on.
        executor: Kind of executor the step really ran on (``local``, ``docker``,
            ``kubernetes``, ``vertex_ai``...); ``None`` for a step that never ran (cached,
            skipped). Run cost is priced from this, never from what the stack declares.
        log_uri: URI of the step's captured stdout/stderr (text) in the artifact store.
        details: Where the step ran, for people: container id, host, job name, a console link.
    """

    run_id: str
    name: str
    status: StepStatus
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cache_key: str | None = None
    cached: bool = False
    error: str | None = None
    stack: str | None = None
    resources: Mapping[str, Any] | None = None
    attempts: int = 0
    outputs: Mapping[str, ArtifactRef] = field(default_factory=dict)
    inputs: Mapping[str, ArtifactRef] = field(default_factory=dict)
    upstream: tuple[str, ...] = ()
    executor: str | None = None
    log_uri: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds between start and end, or ``None`` while unknown."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RunRecord:
    """One pipeline run."""

    run_id: str
    pipeline: str
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    stack: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    steps: tuple[StepRecord, ...] = ()

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()
