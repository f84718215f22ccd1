"""The one seam every orchestrator engine implements, and what it reports.

An engine (Vertex AI Pipelines, Kubeflow Pipelines, Airflow) compiles a manifest to its native
artifact, submits it, reports a run's state, cancels it and manages schedules. Everything else
(manifest, code package, image, recording, following) is shared and lives beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flowyml.core.records import RunStatus
from flowyml.runtime.orchestrators.manifest import RunManifest


@dataclass(frozen=True)
class EngineState:
    """A run as the engine reports it.

    Attributes:
        final: ``None`` while it goes on, else how it ended.
        tasks: Step name -> the engine's own word for its state (``RUNNING``, ``SUCCEEDED``...).
        message: The engine's error text, if any.
    """

    final: RunStatus | None
    tasks: dict[str, str] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as the engine lists it."""

    schedule_id: str
    pipeline: str
    cron: str
    state: str


class Engine(Protocol):
    """What :mod:`flowyml.runtime.orchestrators.launch` needs from an orchestrator."""

    kind: str
    suffix: str  # file suffix of the native artifact (".yaml", ".py")

    def compile(self, manifest: RunManifest, manifest_uri: str, output: Path) -> Path:
        """Write the native artifact of ``manifest`` to ``output``."""
        ...

    def submit(self, artifact: Path, manifest: RunManifest, run_id: str) -> str:
        """Start a run of ``artifact`` recorded as ``run_id``; returns the engine's run handle."""
        ...

    def state(self, handle: str) -> EngineState:
        """The run's state now."""
        ...

    def cancel(self, handle: str) -> None:
        """Ask the engine to cancel the run."""
        ...

    def create_schedule(self, artifact: Path, manifest: RunManifest, cron: str) -> str:
        """Create a schedule running ``artifact`` on ``cron``; returns its id."""
        ...

    def list_schedules(self) -> list[ScheduleInfo]:
        """The schedules flowyml created on this engine."""
        ...

    def delete_schedule(self, schedule_id: str) -> None:
        """Delete one schedule."""
        ...
