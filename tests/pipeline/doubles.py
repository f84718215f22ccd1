"""Test doubles for the pipeline tests, clearly labelled as such.

``InMemoryMetadataStore`` is a DOUBLE of the metadata-store port: it is used only by the pure
DAG-shape and spy tests, where what matters is what the runner asks for. The runner's main tests
use the real SQLAlchemy store on a tmp_path SQLite file (see ``conftest.py``).

``LocalRuntimeStack`` is not a double: it composes real adapters (the fsspec artifact store, a
metadata store and a real thread pool) exactly as the ``RuntimeStack`` port describes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.pipeline.ports import ArtifactStore, MetadataStore


class InMemoryMetadataStore:
    """DOUBLE: keeps runs and steps in dicts and remembers every save_step call in order."""

    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.steps: dict[str, dict[str, StepRecord]] = {}
        self.history: list[StepRecord] = []
        self._lock = threading.Lock()

    def start_run(self, run: RunRecord) -> None:
        with self._lock:
            self.runs[run.run_id] = run
            self.steps[run.run_id] = {}

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        with self._lock:
            run = self.runs[run_id]
            self.runs[run_id] = replace(
                run, status=status, error=error, ended_at=datetime.now(timezone.utc)
            )

    def save_step(self, step: StepRecord) -> None:
        with self._lock:
            self.steps[step.run_id][step.name] = step
            self.history.append(step)

    def find_cached(self, cache_key: str) -> Mapping[str, ArtifactRef] | None:
        with self._lock:
            for steps in reversed(list(self.steps.values())):
                for rec in steps.values():
                    ok = rec.status in (StepStatus.COMPLETED, StepStatus.CACHED)
                    if ok and rec.cache_key == cache_key:
                        return rec.outputs
        return None

    def get_run(self, run_id: str) -> RunRecord:
        return replace(self.runs[run_id], steps=tuple(self.steps[run_id].values()))

    def list_runs(self, pipeline: str | None = None, limit: int = 20) -> Sequence[RunRecord]:
        runs = [r for r in self.runs.values() if pipeline in (None, r.pipeline)]
        return list(reversed(runs))[:limit]


class SpyMetadataStore:
    """Wraps a real metadata store and remembers every step record saved, in order."""

    def __init__(self, inner: MetadataStore) -> None:
        self.inner = inner
        self.history: list[StepRecord] = []

    def start_run(self, run: RunRecord) -> None:
        self.inner.start_run(run)

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        self.inner.finish_run(run_id, status, error)

    def save_step(self, step: StepRecord) -> None:
        self.history.append(step)
        self.inner.save_step(step)

    def find_cached(self, cache_key: str) -> Mapping[str, ArtifactRef] | None:
        return self.inner.find_cached(cache_key)

    def get_run(self, run_id: str) -> RunRecord:
        return self.inner.get_run(run_id)

    def list_runs(self, pipeline: str | None = None, limit: int = 20) -> Sequence[RunRecord]:
        return self.inner.list_runs(pipeline, limit)


@dataclass
class LocalRuntimeStack:
    """A RuntimeStack made of given adapters and a real thread pool."""

    name: str
    artifact_store: ArtifactStore
    metadata_store: MetadataStore
    executors: list[Executor] = field(default_factory=list)

    def make_executor(self, max_workers: int, use_processes: bool = False) -> Executor:
        executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=self.name)
        self.executors.append(executor)
        return executor
