"""Reliability across processes, on a real SQLite file: concurrent runs lose no record, and a
run interrupted with SIGINT ends ``cancelled``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.metadata import SqlMetadataStore

SCRIPT = Path(__file__).with_name("proc_pipeline.py")


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_processes_on_one_sqlite_file_lose_no_record(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    procs = [_spawn("chain", str(tmp_path / f"artifacts-{i}"), str(db)) for i in range(3)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.split()[1] == "completed"
    run_ids = {out.split()[0] for out, _ in outputs}

    store = SqlMetadataStore(f"sqlite:///{db}")
    try:
        runs = store.list_runs(pipeline="chain", limit=10)
        assert {r.run_id for r in runs} == run_ids
        for run_id in run_ids:
            run = store.get_run(run_id)
            assert run.status is RunStatus.COMPLETED
            assert len(run.steps) == 40
            assert all(s.status is StepStatus.COMPLETED for s in run.steps)
            assert all(set(s.outputs) == {"output"} for s in run.steps)
    finally:
        store.close()


def test_sigint_ends_the_run_cancelled(tmp_path: Path) -> None:
    db = tmp_path / "metadata.db"
    marker = tmp_path / "started"
    proc = _spawn("hang", str(tmp_path / "artifacts"), str(db), str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err

    store = SqlMetadataStore(f"sqlite:///{db}")
    try:
        (run,) = store.list_runs(pipeline="hang")
        assert run.status is RunStatus.CANCELLED
        steps = {s.name: s for s in store.get_run(run.run_id).steps}
        assert steps["hang"].status is StepStatus.CANCELLED
        assert steps["start"].status is StepStatus.CANCELLED
        assert run.ended_at is not None
    finally:
        store.close()
