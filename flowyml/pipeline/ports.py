"""The small interfaces the runner needs from a bound stack.

The runner depends on these Protocols only; :mod:`flowyml.runtime` implements them and
:func:`flowyml.runtime.binding.bind_stack` hands the runner a :class:`RuntimeStack`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flowyml.core.records import (
    ArtifactRef,
    RunRecord,
    RunStatus,
    StepRecord,
)

if TYPE_CHECKING:
    from flowyml.pipeline.executors import StepExecutor


@runtime_checkable
class ArtifactStore(Protocol):
    """Saves values as payloads under one root URI and loads them back as their type."""

    @property
    def root_uri(self) -> str:
        """Root URI of the store, e.g. ``file:///abs/path`` or ``s3://bucket/prefix``."""
        ...

    def save(self, value: Any, key: str) -> ArtifactRef:
        """Atomically write ``value`` under ``<root>/<key>`` and return its ref.

        Raises:
            ArtifactError: the value cannot be serialised (one-line message naming its type).
        """
        ...

    def load(self, ref: ArtifactRef) -> Any:
        """Load the value ``ref`` points to, as the type it was saved as."""
        ...

    def exists(self, ref: ArtifactRef) -> bool:
        """True when the payload is still there (cache validity)."""
        ...

    def put_bytes(self, key: str, data: bytes) -> str:
        """Atomically write raw bytes under ``<root>/<key>`` (captured logs); returns the URI."""
        ...


@runtime_checkable
class MetadataStore(Protocol):
    """Keeps runs, step runs, artifacts and lineage."""

    def start_run(self, run: RunRecord) -> None:
        """Record a new run (status ``running``), creating its pipeline row if needed."""
        ...

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        """Mark a run finished with ``status``; sets its end time."""
        ...

    def save_step(self, step: StepRecord) -> None:
        """Insert or update one step run, with its output artifacts and consumed inputs.

        A store may also offer ``save_steps(records)`` (one transaction for a batch); the
        runner's recorder uses it when present and falls back to ``save_step`` otherwise.
        """
        ...

    def find_cached(self, cache_key: str) -> Mapping[str, ArtifactRef] | None:
        """Outputs of the newest successful step run with ``cache_key``, or ``None``."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its steps. Raises ``RunNotFoundError`` if there is none."""
        ...

    def list_runs(self, pipeline: str | None = None, limit: int = 20) -> Sequence[RunRecord]:
        """Newest runs first, without their steps."""
        ...


@runtime_checkable
class RuntimeStack(Protocol):
    """A stack bound to live adapters: what a run needs."""

    @property
    def name(self) -> str: ...

    @property
    def artifact_store(self) -> ArtifactStore: ...

    @property
    def metadata_store(self) -> MetadataStore: ...

    def step_executor(self, max_workers: int, use_processes: bool = False) -> StepExecutor:
        """The strategy that runs this stack's steps for one run.

        Args:
            max_workers: The run's concurrency when the stack declares none.
            use_processes: The pipeline asks for one process per attempt (local stacks).
        """
        ...
