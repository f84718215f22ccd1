"""Reliability across processes, on a real SQLite file: concurrent runs lose no record, and a
run interrupted with SIGINT ends ``cancelled`` (leaving no step process behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.metadata import SqlMetadataStore

SCRIPT = Path(__file__).with_name("proc_pipeline.py")


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _alive(pid: int) -> bool:
    """True if ``pid`` is a live process (a zombie or a reused pid of another program is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and SCRIPT.name.encode() in cmdline


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


@pytest.mark.parametrize("target", ["process group", "parent only"])
def test_sigint_in_process_mode_cancels_and_leaves_no_child(tmp_path: Path, target: str) -> None:
    db = tmp_path / "metadata.db"
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    proc = _spawn("hang-procs", str(tmp_path / "artifacts"), str(db), str(pids_dir))
    deadline = time.monotonic() + 60
    while len(list(pids_dir.glob("pid-*"))) < 2:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the steps never started"
        time.sleep(0.05)
    children = [int(p.name.split("-", 1)[1]) for p in pids_dir.glob("pid-*")]
    assert proc.pid not in children and all(_alive(pid) for pid in children)
    if target == "process group":  # what Ctrl-C in a terminal does
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGINT)
    try:
        # The steps sleep 600 s: only a runner that ends its children returns in time.
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert "KeyboardInterrupt" in err
        # The children ignore SIGINT (no traceback of theirs) and the parent ended them.
        assert err.count("Traceback") <= 1
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    store = SqlMetadataStore(f"sqlite:///{db}")
    try:
        (run,) = store.list_runs(pipeline="hang-procs")
        assert run.status is RunStatus.CANCELLED
        assert {s.status for s in store.get_run(run.run_id).steps} == {StepStatus.CANCELLED}
    finally:
        store.close()


def test_a_step_thread_abandoned_after_its_timeout_does_not_keep_the_process_alive(
    tmp_path: Path,
) -> None:
    proc = _spawn("timeout", str(tmp_path / "artifacts"), str(tmp_path / "metadata.db"))
    try:
        # The step sleeps 600 s: the process ends in time only if it does not wait for it.
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    assert out.split()[1] == "failed"


def test_ctrl_c_at_any_moment_never_leaves_a_run_running(tmp_path: Path) -> None:
    """Interrupts land in every phase (start, steps, recording, finish) of runs in a loop."""
    db = tmp_path / "metadata.db"
    proc = _spawn("interrupted", str(tmp_path / "artifacts"), str(db), str(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no run finished"
            time.sleep(0.02)
        for i in range(25):
            time.sleep(0.011 * (1 + i % 7))  # spread the interrupts over the runs' phases
            os.kill(proc.pid, signal.SIGINT)
        (tmp_path / "stop").touch()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    completed, interrupted = map(int, out.split())
    assert interrupted >= 1

    store = SqlMetadataStore(f"sqlite:///{db}")
    try:
        runs = store.list_runs(pipeline="interrupted", limit=1000)
        statuses = [r.status for r in runs]
        assert set(statuses) == {RunStatus.COMPLETED, RunStatus.CANCELLED}
        # A Ctrl-C while a finished run is being recorded stops the program after the run is
        # recorded `completed`: such runs are completed but were not counted as returned.
        assert statuses.count(RunStatus.COMPLETED) >= completed
        assert 1 <= statuses.count(RunStatus.CANCELLED) <= interrupted
        for run in runs:
            steps = store.get_run(run.run_id).steps
            assert all(s.status is not StepStatus.RUNNING for s in steps), run.run_id
    finally:
        store.close()
