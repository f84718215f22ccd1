"""Several processes opening (and migrating) one store and writing to it at once lose nothing."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus
from flowyml.runtime.metadata import SqlMetadataStore

PROCESSES = 4
RUNS_PER_PROCESS = 5
STEPS_PER_RUN = 10


def _writer(url: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    store = SqlMetadataStore(url)  # every worker races to migrate the empty database
    for r in range(RUNS_PER_PROCESS):
        run_id = f"w{worker}-r{r}"
        now = datetime.now(timezone.utc)
        store.start_run(RunRecord(run_id, "shared", RunStatus.RUNNING, now))
        for s in range(STEPS_PER_RUN):
            ref = ArtifactRef(f"file:///a/{run_id}/{s}.json", "builtins.int", "json", 1, "sha256:0")
            store.save_step(StepRecord(run_id, f"s{s}", StepStatus.RUNNING, now))
            store.save_step(
                StepRecord(run_id, f"s{s}", StepStatus.COMPLETED, now, now, outputs={"output": ref})
            )
        store.finish_run(run_id, RunStatus.COMPLETED)
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_concurrent_processes_lose_no_record(
    backend: str, fresh_database: object, tmp_path: Path
) -> None:
    url = fresh_database(backend, tmp_path)  # type: ignore[operator]
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_writer, args=(url, i, start)) for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0] * PROCESSES

    store = SqlMetadataStore(url)
    runs = store.list_runs("shared", limit=1000)
    assert len(runs) == PROCESSES * RUNS_PER_PROCESS
    assert {r.status for r in runs} == {RunStatus.COMPLETED}
    for run in runs:
        steps = store.get_run(run.run_id).steps
        assert len(steps) == STEPS_PER_RUN
        assert all(s.status is StepStatus.COMPLETED and len(s.outputs) == 1 for s in steps)
    store.close()
