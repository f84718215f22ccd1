"""``flowyml run`` and ``flowyml runs``: real subprocesses on the local stack in a tmp project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.py"


def flowyml(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
    env.pop("FLOWYML_STACK", None)
    env.pop("ENVIRONMENT", None)
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the process failed with exactly one line on stderr and no traceback; return it."""
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("Error:")
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path


def test_run_quickstart_then_list_and_show(project: Path) -> None:
    first = flowyml(project, "run", str(QUICKSTART), "--param", "epochs=5", "--json")
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    assert run["status"] == "completed"
    assert run["params"]["epochs"] == 5
    steps = {s["name"]: s for s in run["steps"]}
    assert list(steps) == ["load_data", "split", "train", "evaluate"]
    assert all(s["status"] == "completed" and not s["cached"] for s in steps.values())
    assert Decimal(steps["train"]["estimated_cost_usd"]) == 0  # local executor costs nothing
    for uri in (o["uri"] for s in steps.values() for o in s["outputs"].values()):
        assert uri.startswith("file://") and Path(uri.removeprefix("file://")).is_file()
    # lineage: evaluate consumed train's output
    train_uri = steps["train"]["outputs"]["output"]["uri"]
    assert train_uri in {i["uri"] for i in steps["evaluate"]["inputs"].values()}

    second = flowyml(project, "run", str(QUICKSTART), "--param", "epochs=5", "--json")
    cached = {s["name"]: s["cached"] for s in json.loads(second.stdout)["steps"]}
    assert cached == {"load_data": True, "split": True, "train": True, "evaluate": True}

    listed = flowyml(project, "runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = [r["run_id"] for r in json.loads(listed.stdout)]
    assert ids[1] == run["run_id"] and len(ids) == 2  # newest first

    shown = flowyml(project, "runs", "show", run["run_id"][:10])
    assert shown.returncode == 0, shown.stderr
    assert run["run_id"] in shown.stdout
    rows: dict[str, list[str]] = {}
    for line in shown.stdout.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line.split())  # the step table comes first
    assert rows["train"][1] == "completed"
    assert "{accuracy=" in shown.stdout  # the metrics evaluate returned, inline
    assert "Estimated cost: $0.00" in shown.stdout


def test_run_shows_step_progress_as_it_happens(project: Path) -> None:
    proc = flowyml(project, "run", str(QUICKSTART))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    progress = [line.strip() for line in lines[: lines.index("")]]
    # Each step reports running, then completed, in dependency order, before the summary.
    assert progress[0] == "load_data: running"
    done = [line.split(":")[0] for line in progress if ": completed in " in line]
    assert done == ["load_data", "split", "train", "evaluate"]
    assert progress.index("train: running") < progress.index(
        next(p for p in progress if p.startswith("train: completed"))
    )


def test_runs_list_on_a_fresh_project_writes_nothing(project: Path) -> None:
    proc = flowyml(project, "runs", "list")
    assert proc.returncode == 0, proc.stderr
    assert "No runs recorded yet" in proc.stdout
    assert not (project / ".flowyml").exists()


def test_failed_step_is_one_line_with_non_zero_exit(project: Path) -> None:
    (project / "boom.py").write_text(
        textwrap.dedent(
            """
            from flowyml import Pipeline, step

            @step
            def source() -> int:
                return 1

            @step
            def explode(x: int) -> int:
                raise ValueError("bad value " + str(x))

            with Pipeline("boom") as boom:
                explode(source())
            """
        )
    )
    proc = flowyml(project, "run", "boom.py")
    line = one_error_line(proc)
    assert "explode" in line and "ValueError: bad value 1" in line
    run_id = line.rsplit("flowyml runs show ", 1)[1].rstrip(")")
    shown = flowyml(project, "runs", "show", run_id, "--json")
    step = {s["name"]: s for s in json.loads(shown.stdout)["steps"]}["explode"]
    assert step["status"] == "failed" and "Traceback" in step["error"]


def test_unserialisable_output_is_one_line(project: Path) -> None:
    (project / "gen.py").write_text(
        textwrap.dedent(
            """
            import threading
            from flowyml import Pipeline, step

            @step
            def make_lock() -> object:
                return threading.Lock()

            with Pipeline("locks") as locks:
                make_lock()
            """
        )
    )
    line = one_error_line(flowyml(project, "run", "gen.py"))
    assert "make_lock" in line and "lock" in line.lower()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "missing.py"], "no such file"),
        (["run", "empty.py"], "defines no pipeline"),
        (["run", f"{QUICKSTART}:nope"], "no pipeline named 'nope'"),
        (["run", str(QUICKSTART), "--param", "epochz=3"], "epochz"),
        (["run", str(QUICKSTART), "--param", "epochs=many"], "epochs"),
        (["run", str(QUICKSTART), "--stack", "nowhere"], "nowhere"),
        (["runs", "show", "0123456789abcdef"], "0123456789abcdef"),
    ],
)
def test_bad_input_gets_one_line(project: Path, args: list[str], needle: str) -> None:
    (project / "empty.py").write_text("x = 1\n")
    if args[:2] == ["runs", "show"]:
        assert flowyml(project, "run", str(QUICKSTART)).returncode == 0
    line = one_error_line(flowyml(project, *args))
    assert needle in line


def test_help_lists_commands_without_heavy_imports() -> None:
    code = (
        "import sys; from flowyml.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pydantic', 'sqlalchemy', 'pulumi', 'pandas', 'boto3', 'fsspec')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout
    for command in ("run", "runs", "stack", "cost"):
        assert f"  {command} " in proc.stdout


BOOM = textwrap.dedent(
    """
    from flowyml import Pipeline, step

    @step
    def source() -> int:
        return 1

    @step
    def explode(x: int) -> int:
        raise ValueError("bad value " + str(x))

    @step
    def downstream(x: int) -> int:
        return x

    with Pipeline("boom") as boom:
        downstream(explode(source()))
    """
)


def test_runs_show_has_status_duration_cached_error_and_uris_per_step(project: Path) -> None:
    (project / "boom.py").write_text(BOOM)
    line = one_error_line(flowyml(project, "run", "boom.py"))
    run_id = line.rsplit("flowyml runs show ", 1)[1].rstrip(")")
    shown = flowyml(project, "runs", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    header = next(line for line in lines if line.startswith("STEP"))
    assert header.split() == [
        "STEP", "STATUS", "DURATION", "CACHED", "ATTEMPTS", "COST", "ERROR", "OUTPUTS",
    ]  # fmt: skip
    table = lines[lines.index(header) + 1 :]
    rows = {line.split()[0]: line for line in table[: table.index("")] if line.strip()}
    assert rows["source"].split()[1:4] == ["completed", rows["source"].split()[2], "no"]
    assert rows["source"].split()[-1] == "1"  # a small output is shown as its value
    # Artifact locations are listed under the table, relative to the store they are in.
    assert "Artifacts (in .flowyml/artifacts):" in shown.stdout
    assert any(line.split()[-1].startswith("boom/") for line in lines if "source" in line)
    assert "failed" in rows["explode"] and "ValueError: bad value 1" in rows["explode"]
    assert "skipped" in rows["downstream"] and "upstream explode failed" in rows["downstream"]
    assert rows["downstream"].split()[5] == "$0.00"  # a step that never ran costs nothing
    assert "not priced" not in shown.stdout
    # The full traceback follows the table and starts in the user's code, not in flowyml's.
    tail = shown.stdout[shown.stdout.index("Error in explode:") :]
    assert 'boom.py", line' in tail.splitlines()[2]
    again = flowyml(project, "run", "boom.py")
    cached = flowyml(project, "runs", "show", again.stderr.rsplit(" ", 1)[1].rstrip(")\n"))
    source_row = next(line for line in cached.stdout.splitlines() if line.startswith("source"))
    assert source_row.split()[1] == "cached" and source_row.split()[3] == "yes"


def test_debug_shows_tracebacks(project: Path) -> None:
    (project / "boom.py").write_text(BOOM)
    (project / "empty.py").write_text("x = 1\n")
    failed = flowyml(project, "--debug", "run", "boom.py")
    assert failed.returncode == 1
    assert "Traceback" in failed.stdout and 'raise ValueError("bad value "' in failed.stdout
    quiet = flowyml(project, "run", "boom.py")
    assert "Traceback" not in quiet.stdout + quiet.stderr
    broken = flowyml(project, "--debug", "run", "empty.py")
    assert broken.returncode != 0
    assert "Traceback (most recent call last)" in broken.stderr
    assert "PipelineLoadError: empty.py defines no pipeline" in broken.stderr


def run_in_process(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``flowyml ARGS`` through the same click group, without a new interpreter (~1 s each).

    For tests whose subject is another command and that only need runs recorded first.
    """
    from click.testing import CliRunner

    from flowyml.cli.main import cli

    monkeypatch.chdir(project)
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(project))
    monkeypatch.delenv("FLOWYML_STACK", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    return CliRunner().invoke(cli, list(args)).exit_code


def test_runs_list_filters_by_pipeline_and_limits(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "boom.py").write_text(BOOM)
    for _ in range(3):
        assert run_in_process(project, monkeypatch, "run", str(QUICKSTART)) == 0
    assert run_in_process(project, monkeypatch, "run", "boom.py") != 0
    everything = json.loads(flowyml(project, "runs", "list", "--json").stdout)
    assert [r["pipeline"] for r in everything] == ["boom", *["quickstart"] * 3]
    two = flowyml(project, "runs", "list", "--pipeline", "quickstart", "--limit", "2", "--json")
    listed = json.loads(two.stdout)
    assert [r["run_id"] for r in listed] == [r["run_id"] for r in everything[1:3]]
    assert set(listed[0]) >= {"run_id", "pipeline", "status", "started_at", "duration_seconds"}
    none = flowyml(project, "runs", "list", "--pipeline", "nothing")
    assert none.returncode == 0 and "No runs of pipeline 'nothing'" in none.stdout


def test_ctrl_c_during_flowyml_run_records_cancelled(project: Path) -> None:
    (project / "slow.py").write_text(
        textwrap.dedent(
            """
            import time
            from pathlib import Path
            from flowyml import Pipeline, step

            @step
            def slow() -> int:
                Path("started").write_text("yes")
                time.sleep(600)
                return 1

            with Pipeline("slow", enable_cache=False) as slow_pipeline:
                slow()
            """
        )
    )
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowyml.cli", "run", "slow.py"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (project / "started").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert err.strip().splitlines() == [
        "Interrupted: the run was recorded as cancelled (see `flowyml runs list --pipeline slow`)."
    ]
    (run,) = json.loads(flowyml(project, "runs", "list", "--json").stdout)
    assert run["status"] == "cancelled"
