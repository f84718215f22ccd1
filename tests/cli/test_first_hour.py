"""A new user's first hour (issue 12): real `flowyml` processes in a temporary project.

Each bug the issue lists has a test here that failed before its fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.py"
ANSI = re.compile(r"\x1b\[")

README_SNIPPET = """
from flowyml import Pipeline, step


@step
def load() -> list[int]:
    return list(range(10))


@step(retries=2, timeout=60)
def train(xs: list[int], epochs: int = 3) -> dict:
    return {"mean": sum(xs) / len(xs), "epochs": epochs}


with Pipeline("demo", enable_cache=True) as pipeline:
    model = train(load(), epochs=5)

result = pipeline.run()
print(result.status, result.run_id, result["train"])
"""


def flowyml(
    cwd: Path, *args: str, project: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``flowyml ARGS`` in ``cwd``; the project is found from ``cwd`` unless ``project`` is given."""
    environ = {**os.environ, **env}
    for name in ("FLOWYML_PROJECT_DIR", "FLOWYML_STACK", "ENVIRONMENT", "NO_COLOR"):
        environ.pop(name, None)
    if project is not None:
        environ["FLOWYML_PROJECT_DIR"] = str(project)
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one ``Error:`` line of a failed process (no traceback)."""
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error:") and "Traceback" not in proc.stderr
    return lines[0]


def run_ids(project: Path, *extra: str) -> list[str]:
    listed = flowyml(project, "runs", "list", "--json", *extra, project=project)
    assert listed.returncode == 0, listed.stderr
    return [r["run_id"] for r in json.loads(listed.stdout)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "flowyml.yaml").write_text("default_stack: local\nstacks:\n  local: {type: local}\n")
    return root


# -- bugs --------------------------------------------------------------------------------------


def test_module_level_run_is_refused_and_records_nothing(project: Path) -> None:
    (project / "demo.py").write_text(README_SNIPPET)
    line = error_line(flowyml(project, "run", "demo.py", "--stack", "local"))
    assert "demo.py:18" in line and 'if __name__ == "__main__":' in line
    assert run_ids(project) == []


def test_a_failing_param_leaves_no_run(project: Path) -> None:
    (project / "demo.py").write_text(README_SNIPPET)
    error_line(flowyml(project, "run", "demo.py", "--param", "epochs=5"))
    line = error_line(flowyml(project, "run", str(QUICKSTART), "--param", "epochs=many"))
    assert "epochs" in line and "int" in line
    assert run_ids(project) == []


def test_register_the_repositorys_one_stack_file_from_anywhere(project: Path) -> None:
    outside = project.parent / "aws.yaml"
    shutil.copy(REPO / "stacks" / "aws.yaml", outside)
    done = flowyml(project, "stack", "register", str(outside))
    assert done.returncode == 0, done.stderr
    assert "Registered stack aws-prod (aws)" in done.stdout
    listed = json.loads(flowyml(project, "stack", "list", "--json").stdout)
    assert {s["name"]: s["source"] for s in listed["stacks"]}["aws-prod"] == "registry"


def test_register_a_file_the_project_already_reads_says_so(project: Path) -> None:
    (project / "stacks").mkdir()
    shutil.copy(REPO / "stacks" / "aws.yaml", project / "stacks" / "aws.yaml")
    done = flowyml(project, "stack", "register", "stacks/aws.yaml")
    assert done.returncode == 0, done.stderr
    assert "Registered" not in done.stdout
    assert "already declared" in done.stdout and "stacks/aws.yaml:3" in done.stdout


def test_runs_list_works_with_an_unprovisioned_active_stack(project: Path) -> None:
    (project / "stacks").mkdir()
    shutil.copy(REPO / "stacks" / "production.yaml", project / "stacks" / "production.yaml")
    chosen = flowyml(project, "stack", "set", "production")
    assert chosen.returncode == 0, chosen.stderr
    assert "not provisioned yet" in chosen.stdout and "flowyml stack up production" in chosen.stdout
    listed = flowyml(project, "runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "No runs recorded yet" in listed.stdout


def test_stack_list_says_a_local_stack_never_used_is_not_provisioned(project: Path) -> None:
    def provisioned() -> object:
        done = flowyml(project, "stack", "list", "--json")
        return {s["name"]: s["provisioned"] for s in json.loads(done.stdout)["stacks"]}["local"]

    assert provisioned() is False
    assert "no (not needed)" in flowyml(project, "stack", "list").stdout
    assert flowyml(project, "run", str(QUICKSTART)).returncode == 0
    assert provisioned() is True


def test_runs_of_a_python_declared_stack_are_found_from_the_cli(project: Path) -> None:
    (project / "own.py").write_text(
        textwrap.dedent(
            """
            from flowyml import Pipeline, step
            from flowyml.stacks import LocalStack

            @step
            def answer() -> int:
                return 42

            mine = LocalStack(
                name="mine", artifact_path="elsewhere/art", metadata_path="elsewhere/meta.db"
            )
            with Pipeline("own", stack=mine) as own:
                answer()

            if __name__ == "__main__":
                print(own.run().run_id)
            """
        )
    )
    env = {**os.environ}
    env.pop("FLOWYML_PROJECT_DIR", None)
    done = subprocess.run(
        [sys.executable, "own.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    assert (project / "elsewhere" / "meta.db").is_file()
    shown = flowyml(project, "runs", "show", run_id[:10])
    assert shown.returncode == 0, shown.stderr
    assert "stack=mine" in shown.stdout and "42" in shown.stdout
    assert run_id in run_ids(project)
    assert run_ids(project, "--stack", "mine") == [run_id]


def test_a_corrupt_sqlite_file_is_named_as_such(project: Path) -> None:
    (project / ".flowyml").mkdir()
    (project / ".flowyml" / "metadata.db").write_bytes(b"this is not a database\n" * 100)
    for args in (["runs", "list"], ["run", str(QUICKSTART)]):
        line = error_line(flowyml(project, *args))
        assert "is not a SQLite database" in line and "database server" not in line


def test_a_malformed_stack_file_does_not_block_other_stacks(project: Path) -> None:
    (project / "stacks").mkdir()
    (project / "stacks" / "broken.yaml").write_text("name: broken\ntype: gcp\n  bad: [1\n")
    done = flowyml(project, "run", str(QUICKSTART))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "broken.yaml" in warnings[0], done.stderr
    asked = error_line(flowyml(project, "stack", "describe", "broken"))
    assert "malformed YAML" in asked


def test_literal_and_empty_passwords_are_warned_about(project: Path) -> None:
    (project / "flowyml.yaml").write_text(
        textwrap.dedent(
            """
            stacks:
              literal:
                type: custom
                executor: {kind: local}
                artifact_store: {kind: local, path: a}
                metadata_store: {kind: postgresql, host: db, database: x, user: u, password: hunter2}
              empty:
                type: custom
                executor: {kind: local}
                artifact_store: {kind: local, path: a}
                metadata_store: {kind: postgresql, host: db, database: x, user: u, password: "${DB_PW}"}
            """
        )
    )
    literal = flowyml(project, "stack", "validate", "literal")
    assert literal.returncode == 0, literal.stderr
    assert "Warning:" in literal.stderr and "literal password" in literal.stderr
    assert "hunter2" not in literal.stderr + literal.stdout
    empty = flowyml(project, "stack", "validate", "empty", DB_PW="")
    assert empty.returncode == 0, empty.stderr
    assert "${DB_PW} is set but empty" in empty.stderr
    unwarned = flowyml(project, "stack", "validate", "empty", DB_PW="s3cret")
    assert "Warning" not in unwarned.stderr


def test_validation_problems_are_printed_once(project: Path) -> None:
    (project / "flowyml.yaml").write_text(
        "stacks:\n  g:\n    type: gcp\n    project_id: X\n    bucket_name: B\n    region: mars-1\n"
    )
    done = flowyml(project, "stack", "validate", "g")
    assert done.returncode == 1
    both = done.stdout + done.stderr
    assert both.count("mars-1") == 1, both
    assert "problem" in error_line(done)


def test_arithmetic_on_a_step_output_is_explained(project: Path) -> None:
    (project / "calc.py").write_text(
        textwrap.dedent(
            """
            from flowyml import Pipeline, step

            @step
            def load() -> int:
                return 1

            with Pipeline("calc") as calc:
                doubled = load() * 2
            """
        )
    )
    line = error_line(flowyml(project, "run", "calc.py"))
    assert "calc.py:9" in line and "handle" in line and "inside a step" in line
    assert "OutputHandle" not in line and "TypeError" not in line and "flowyml." not in line


def test_error_lines_drop_internal_class_paths() -> None:
    from flowyml.cli.render_runs import clean_error

    assert clean_error("flowyml.runtime.errors.ArtifactError: artifact not found: x") == (
        "artifact not found: x"
    )
    assert clean_error("ValueError: bad value 1") == "ValueError: bad value 1"


# -- results in the CLI ------------------------------------------------------------------------


def test_runs_show_prints_metrics_and_store_relative_paths_within_the_width(
    project: Path,
) -> None:
    ran = flowyml(project, "run", str(QUICKSTART), "--json")
    run_id = json.loads(ran.stdout)["run_id"]
    for columns in ("80", "100"):
        shown = flowyml(project, "runs", "show", run_id[:8], COLUMNS=columns)
        assert shown.returncode == 0, shown.stderr
        assert max(len(line) for line in shown.stdout.splitlines()) <= int(columns)
        assert not ANSI.search(shown.stdout)  # piped: no colour
    wide = flowyml(project, "runs", "show", run_id[:8], COLUMNS="100").stdout
    evaluate = next(line for line in wide.splitlines() if line.startswith("evaluate"))
    assert "{accuracy=0.93" in evaluate and "log_loss=" in evaluate
    assert "Artifacts (in .flowyml/artifacts):" in wide
    assert f"quickstart/{run_id}/evaluate/output.json" in wide
    assert f"file://{project}/.flowyml/artifacts/quickstart" not in wide.split("Artifacts (in")[1]
    # A cached rerun still shows what its steps returned.
    again = json.loads(flowyml(project, "run", str(QUICKSTART), "--json").stdout)["run_id"]
    cached = flowyml(project, "runs", "show", again[:8]).stdout
    assert "{accuracy=0.93" in cached and " yes " in cached


def test_colour_on_a_terminal_only(project: Path) -> None:
    from click.testing import CliRunner

    from flowyml.cli.runs_cmd import runs

    os.environ["FLOWYML_PROJECT_DIR"] = str(project)
    try:
        assert flowyml(project, "run", str(QUICKSTART)).returncode == 0
        coloured = CliRunner().invoke(runs, ["list"], color=True, env={"COLUMNS": "100"})
        plain = CliRunner().invoke(runs, ["list"], env={"COLUMNS": "100"})
        no_color = CliRunner().invoke(runs, ["list"], color=True, env={"NO_COLOR": "1"})
    finally:
        os.environ.pop("FLOWYML_PROJECT_DIR")
    assert "\x1b[32mcompleted" in coloured.output
    assert not ANSI.search(plain.output) and not ANSI.search(no_color.output)


def test_runs_list_shows_parameters_and_compare_lines_runs_up(project: Path) -> None:
    for epochs in ("5", "50"):
        assert (
            flowyml(project, "run", str(QUICKSTART), "--param", f"epochs={epochs}").returncode == 0
        )
    listed = flowyml(project, "runs", "list", COLUMNS="100")
    assert "epochs=50 lr=0.5 n=400" in listed.stdout and "PARAMS" in listed.stdout
    narrow = flowyml(project, "runs", "list", COLUMNS="80").stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80 and "STATUS" in narrow
    newer, older = run_ids(project)
    compared = flowyml(project, "runs", "compare", older[:8], newer[:8])
    assert compared.returncode == 0, compared.stderr
    rows = {line[2:].split("  ")[0].strip(): line for line in compared.stdout.splitlines()}
    assert rows["param epochs"].startswith("*") and rows["param epochs"].split()[-2:] == ["5", "50"]
    assert rows["param lr"].startswith(" ")  # the same in both runs
    assert "metric evaluate.accuracy" in rows and "step train" in rows and "cost" in rows
    data = json.loads(flowyml(project, "runs", "compare", older, newer, "--json").stdout)
    accuracy = [r["metrics"]["evaluate.accuracy"] for r in data["runs"]]
    assert all(0.5 < a <= 1 for a in accuracy)
    one = flowyml(project, "runs", "compare", older)
    assert one.returncode == 2 and "at least two run ids" in one.stderr


def test_artifacts_show_prints_and_saves_one_output(project: Path) -> None:
    run_id = json.loads(flowyml(project, "run", str(QUICKSTART), "--json").stdout)["run_id"]
    shown = flowyml(project, "artifacts", "show", run_id[:8], "evaluate")
    assert shown.returncode == 0, shown.stderr
    assert set(json.loads(shown.stdout)) == {"accuracy", "log_loss"}
    out = project / "weights.json"
    saved = flowyml(project, "artifacts", "show", run_id[:8], "train", "--out", str(out))
    assert saved.returncode == 0, saved.stderr
    assert set(json.loads(out.read_text())) == {"w0", "w1", "b"}
    assert "several outputs" in error_line(flowyml(project, "artifacts", "show", run_id, "split"))
    part = flowyml(project, "artifacts", "show", run_id, "split.output_1")
    assert part.returncode == 0 and part.stdout.startswith("[")
    assert "no step 'nope'" in error_line(flowyml(project, "artifacts", "show", run_id, "nope"))


# -- projects ----------------------------------------------------------------------------------


def test_init_makes_a_project_that_runs_at_once(tmp_path: Path) -> None:
    made = flowyml(tmp_path, "init", "fresh")
    assert made.returncode == 0, made.stderr
    fresh = tmp_path / "fresh"
    assert ".flowyml/" in (fresh / ".gitignore").read_text()
    assert "# production:" in (fresh / "flowyml.yaml").read_text()  # a commented GCP stack
    ran = flowyml(fresh, "run", "pipeline.py", "--param", "n=10")
    assert ran.returncode == 0, ran.stderr
    assert "mean=4.5" in ran.stdout
    again = flowyml(tmp_path, "init", "fresh")
    assert "already exists" in error_line(again)


def test_any_subfolder_finds_the_project_and_info_says_where(project: Path) -> None:
    assert flowyml(project, "run", str(QUICKSTART)).returncode == 0
    sub = project / "notebooks" / "deep"
    sub.mkdir(parents=True)
    listed = flowyml(sub, "runs", "list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
    assert not (sub / ".flowyml").exists() and not (project / "notebooks" / ".flowyml").exists()
    info = json.loads(flowyml(sub, "info", "--json").stdout)
    assert info["project"] == str(project) and info["state"] == str(project / ".flowyml")
    assert info["stack"]["name"] == "local"
    assert info["stack"]["metadata_store"] == f"sqlite:///{project}/.flowyml/metadata.db"
    text = flowyml(sub, "info").stdout
    assert f"Project:      {project}  (flowyml.yaml found there)" in text


def test_the_repository_is_a_project_for_its_subfolders() -> None:
    listed = flowyml(REPO / "examples", "stack", "list", "--json")
    names = {s["name"] for s in json.loads(listed.stdout)["stacks"]}
    assert {"local", "production", "aws-prod", "k8s-cluster"} <= names


def test_stack_describe_shows_what_is_set(project: Path) -> None:
    shown = flowyml(REPO, "stack", "describe", "production", COLUMNS="100")
    assert shown.returncode == 0, shown.stderr
    assert "null" not in shown.stdout and "None" not in shown.stdout
    assert "container registry Artifact Registry" in shown.stdout
    assert "gcr" not in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 100


def test_shell_completion_of_stack_names_and_run_ids(project: Path) -> None:
    run_id = json.loads(flowyml(project, "run", str(QUICKSTART), "--json").stdout)["run_id"]

    def complete(words: str) -> list[str]:
        done = flowyml(
            project,
            project=None,
            _FLOWYML_COMPLETE="bash_complete",
            COMP_WORDS=words,
            COMP_CWORD=str(len(words.split(" ")) - 1),
        )
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("flowyml runs show ") == [run_id[:12]]
    assert complete("flowyml stack describe lo") == ["local"]
    assert complete("flowyml stack preview lo") == ["local"]  # lifecycle commands too
    assert complete("flowyml run x.py --stack ") == ["local"]


def test_an_unreadable_other_store_is_a_warning_not_a_failure(project: Path) -> None:
    (project / "flowyml.yaml").write_text(
        "default_stack: local\nstacks:\n  local: {type: local}\n"
        "  other: {type: local, metadata_path: other.db}\n"
    )
    (project / "other.db").write_bytes(b"garbage" * 100)
    assert flowyml(project, "run", str(QUICKSTART)).returncode == 0
    listed = flowyml(project, "runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "quickstart" in listed.stdout
    assert listed.stderr.startswith("Warning: the runs of stack other are not listed: ")
    assert "other.db" in listed.stderr and "not a SQLite database" in listed.stderr
