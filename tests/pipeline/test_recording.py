"""Batched step recording against the real SQLite metadata store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from flowyml.core.records import RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.pipeline.recording import StepRecorder
from flowyml.runtime.metadata import SqlMetadataStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class CountingStore:
    """The real store, counting the write calls the recorder makes (to see the batching)."""

    def __init__(self, inner: SqlMetadataStore) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []

    def save_step(self, step: StepRecord) -> None:
        self.batches.append([step.name])
        self.inner.save_step(step)

    def save_steps(self, steps: Sequence[StepRecord]) -> None:
        self.batches.append([f"{s.name}:{s.status.value}" for s in steps])
        self.inner.save_steps(steps)


def _store(tmp_path: Path) -> SqlMetadataStore:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    store.start_run(RunRecord("r1", "p", RunStatus.RUNNING, started_at=T0))
    return store


def _rec(name: str, status: StepStatus) -> StepRecord:
    return StepRecord(run_id="r1", name=name, status=status, started_at=T0)


def _statuses(store: SqlMetadataStore) -> dict[str, StepStatus]:
    return {s.name: s.status for s in store.get_run("r1").steps}


def test_records_wait_then_go_in_one_batch_with_the_latest_status(tmp_path: Path) -> None:
    store = _store(tmp_path)
    counting = CountingStore(store)
    recorder = StepRecorder(counting, flush_interval=3600)
    recorder.add(_rec("a", StepStatus.RUNNING))
    recorder.add(_rec("b", StepStatus.RUNNING))
    recorder.add(_rec("a", StepStatus.COMPLETED))
    assert recorder.pending and _statuses(store) == {}  # nothing written yet
    recorder.flush()
    assert counting.batches == [["b:running", "a:completed"]]  # one batch, a's latest record
    assert _statuses(store) == {"a": StepStatus.COMPLETED, "b": StepStatus.RUNNING}
    assert not recorder.pending
    recorder.flush()
    assert len(counting.batches) == 1  # nothing pending: no empty write


def test_a_due_record_is_written_when_added(tmp_path: Path) -> None:
    store = _store(tmp_path)
    recorder = StepRecorder(CountingStore(store), flush_interval=0.0)
    recorder.add(_rec("a", StepStatus.RUNNING))
    assert not recorder.pending
    assert _statuses(store) == {"a": StepStatus.RUNNING}


def test_a_store_without_save_steps_gets_each_record(tmp_path: Path) -> None:
    store = _store(tmp_path)

    class OneByOne:
        def __init__(self) -> None:
            self.names: list[str] = []

        def save_step(self, step: StepRecord) -> None:
            self.names.append(step.name)
            store.save_step(step)

    sink = OneByOne()
    recorder = StepRecorder(sink, flush_interval=3600)
    recorder.add(_rec("a", StepStatus.COMPLETED))
    recorder.add(_rec("b", StepStatus.COMPLETED))
    recorder.flush()
    assert sink.names == ["a", "b"]
    assert _statuses(store) == {"a": StepStatus.COMPLETED, "b": StepStatus.COMPLETED}
