"""Helpers for the pipeline tests. There is no fake store here: every test runs on the real
SQLAlchemy store (tmp_path SQLite) and the real fsspec artifact store (file://).

``SpyMetadataStore`` forwards every call to a real store and remembers the step records written,
so tests can check the order of status transitions.

``LocalRuntimeStack`` is not a double: it composes real adapters (the fsspec artifact store, a
metadata store and the real local strategies) exactly as the ``RuntimeStack`` port describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord
from flowyml.pipeline.executors import StepExecutor
from flowyml.pipeline.ports import ArtifactStore, MetadataStore
from flowyml.runtime.executors.local import PoolStrategy, ProcessStrategy
from flowyml.runtime.executors.threads import DaemonThreadPool


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
    """A RuntimeStack made of given adapters and the real local strategies."""

    name: str
    artifact_store: ArtifactStore
    metadata_store: MetadataStore
    strategies: list[StepExecutor] = field(default_factory=list)

    def step_executor(self, max_workers: int, use_processes: bool = False) -> StepExecutor:
        strategy: StepExecutor
        if use_processes:
            strategy = ProcessStrategy(max_workers)
        else:
            strategy = PoolStrategy(max_workers, DaemonThreadPool(max_workers, self.name))
        self.strategies.append(strategy)
        return strategy
