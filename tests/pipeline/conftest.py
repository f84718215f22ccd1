"""Fixtures for the pipeline tests: real stores on tmp_path, and standard DAG shapes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowyml import Pipeline
from flowyml.pipeline.ports import MetadataStore
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.metadata import SqlMetadataStore

from . import steps
from .doubles import LocalRuntimeStack, SpyMetadataStore


@pytest.fixture(autouse=True)
def _reset_calls() -> Iterator[None]:
    steps.CALLS.clear()
    yield


@pytest.fixture
def artifact_store(tmp_path: Path) -> FsspecArtifactStore:
    return FsspecArtifactStore((tmp_path / "artifacts").as_uri())


@pytest.fixture
def metadata_store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    yield store
    store.close()


@pytest.fixture
def spy_store(metadata_store: SqlMetadataStore) -> SpyMetadataStore:
    """The real store, wrapped to remember every step record written, in order."""
    return SpyMetadataStore(metadata_store)


@pytest.fixture
def runtime_stack(
    artifact_store: FsspecArtifactStore, metadata_store: MetadataStore
) -> Iterator[LocalRuntimeStack]:
    stack = LocalRuntimeStack("test", artifact_store, metadata_store)
    yield stack
    for strategy in stack.strategies:
        strategy.shutdown()


@pytest.fixture
def chain() -> Callable[..., Pipeline]:
    """``chain(n)``: source -> inc -> inc_2 -> ... (n steps in all)."""

    def make(n: int = 4, **options: object) -> Pipeline:
        with Pipeline("chain", **options) as p:  # type: ignore[arg-type]
            value = steps.source(3)
            for _ in range(n - 1):
                value = steps.inc(value)
        return p

    return make


@pytest.fixture
def fan() -> Callable[..., Pipeline]:
    """``fan(width)``: source -> width x inc (fan-out) -> total (fan-in)."""

    def make(width: int = 3, **options: object) -> Pipeline:
        with Pipeline("fan", **options) as p:  # type: ignore[arg-type]
            xs = steps.source(4)
            branches = [steps.inc(xs, by=i) for i in range(width)]
            steps.total(*branches)
        return p

    return make
