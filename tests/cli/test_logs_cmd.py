"""``flowyml runs logs``: what steps printed, read back from the artifact store (real runs in
real subprocesses on the local stack)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from test_run_cmd import flowyml

PIPELINE = textwrap.dedent(
    """
    import sys
    from flowyml import Pipeline, step

    @step
    def talk() -> int:
        print("to stdout")
        print("to stderr", file=sys.stderr)
        return 1

    @step
    def quiet(x: int) -> int:
        return x + 1

    with Pipeline("talking") as p:
        quiet(talk())
    """
)


def _run(project: Path) -> str:
    (project / "p.py").write_text(PIPELINE)
    ran = flowyml(project, "run", "p.py", "--json")
    assert ran.returncode == 0, ran.stderr
    return str(json.loads(ran.stdout)["run_id"])


def test_logs_print_each_steps_output_and_say_when_there_is_none(tmp_path: Path) -> None:
    run_id = _run(tmp_path)
    shown = flowyml(tmp_path, "runs", "logs", run_id[:10])
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    talk = lines.index("== talk (completed, local)")
    assert lines[talk + 1 : talk + 3] == ["to stdout", "to stderr"]
    assert "== quiet (completed, local)" in lines
    assert any(line.startswith("(no output kept") for line in lines)


def test_logs_of_one_step_as_json(tmp_path: Path) -> None:
    run_id = _run(tmp_path)
    shown = flowyml(tmp_path, "runs", "logs", run_id, "talk", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "run_id": run_id,
        "logs": {"talk": "to stdout\nto stderr\n"},
    }


def test_logs_of_an_unknown_step_is_one_error_line_naming_the_steps(tmp_path: Path) -> None:
    run_id = _run(tmp_path)
    proc = flowyml(tmp_path, "runs", "logs", run_id, "nope")
    assert proc.returncode == 2
    assert "has no step 'nope' (steps: talk, quiet)" in proc.stderr
