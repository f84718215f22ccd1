"""``python -m flowyml.entrypoint TASK_URI`` as a real process on a real (local) artifact store:
inputs by reference, outputs and logs saved, result records and exit codes, module-level runs
suppressed while the step's file is imported, and no database driver imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowyml.core.records import ArtifactRef
from flowyml.pipeline.dag import OutputHandle
from flowyml.runtime import code_package
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.tasks import StepResult, StepTask, encode_call

STEPS = textwrap.dedent(
    """
    import sys
    from flowyml import Pipeline, step

    @step
    def add(xs: list, extra: int = 0) -> int:
        print("adding", len(xs), "numbers")
        print("a warning", file=sys.stderr)
        return sum(xs) + extra

    @step
    def fail(xs: list) -> int:
        raise RuntimeError("no good")

    with Pipeline("p") as p:
        pass

    p.run()  # at module level: must not run inside the entrypoint
    raise SystemExit("the entrypoint imported past a suppressed run")
    """
)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[FsspecArtifactStore, str, Path]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "steps.py").write_text(STEPS)
    store = FsspecArtifactStore((tmp_path / "store").as_uri())
    uri = code_package.upload(code_package.pack(project), store)
    return store, uri, tmp_path


def _task(
    store: FsspecArtifactStore, code_uri: str, step: str, inputs: list[int]
) -> tuple[str, StepTask]:
    ref = store.save(inputs, "p/r1/load/output")
    handle = OutputHandle("load", "output", 1)
    task = StepTask(
        run_id="r1",
        pipeline="p",
        step=step,
        attempt=1,
        artifact_root=store.root_uri,
        code_uri=code_uri,
        source="steps.py",
        module="_flowyml_user_test",
        qualname=step,
        call=encode_call({"xs": handle, "extra": 5}, ((handle, ref),)),
        output_names=("output",),
        output_key=f"p/r1/{step}",
    )
    return store.put_bytes(f"{task.key}/task.json", task.to_json()), task


def _entrypoint(task_uri: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    code = "import sys, runpy; sys.argv = sys.argv[1:]; runpy.run_module('flowyml.entrypoint', run_name='__main__')"
    watch = "import atexit, sys; atexit.register(lambda: print('DB:', 'sqlalchemy' in sys.modules, file=sys.stderr))"
    return subprocess.run(
        [sys.executable, "-c", watch + "\n" + code, "flowyml.entrypoint", task_uri, *extra],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FLOWYML_CODE_CACHE": str(tmp / "cache"), "HOME": str(tmp)},
        timeout=60,
    )


def _result(store: FsspecArtifactStore, task: StepTask) -> StepResult:
    raw = store.get_bytes(store.uri_of(f"{task.key}/result.json"))
    assert raw is not None
    return StepResult.from_json(raw)


def test_a_step_runs_from_its_task_and_leaves_outputs_log_and_result(
    setup: tuple[FsspecArtifactStore, str, Path],
) -> None:
    store, code_uri, tmp = setup
    task_uri, task = _task(store, code_uri, "add", [1, 2, 3])
    proc = _entrypoint(task_uri, tmp)
    assert proc.returncode == 0, proc.stderr
    assert "adding 3 numbers" in proc.stdout  # passed through for the executor to stream
    assert "DB: False" in proc.stderr  # no database driver in a step's process
    result = _result(store, task)
    assert result.status == "completed" and result.error is None
    assert store.load(result.outputs["output"]) == 11
    assert result.outputs["output"].uri == store.uri_of("p/r1/add/output.json")
    assert store.get_bytes(result.log_uri or "") == b"adding 3 numbers\na warning\n"
    assert result.startup_s is not None and result.startup_s > 0


def test_a_failing_step_exits_1_with_its_traceback_in_the_result(
    setup: tuple[FsspecArtifactStore, str, Path],
) -> None:
    store, code_uri, tmp = setup
    task_uri, task = _task(store, code_uri, "fail", [1])
    proc = _entrypoint(task_uri, tmp)
    assert proc.returncode == 1
    result = _result(store, task)
    assert result.status == "failed" and result.outputs == {}
    assert "RuntimeError: no good" in (result.error or "")
    assert 'steps.py", line' in (result.error or "")


def test_a_task_that_cannot_run_exits_2_and_says_why(
    setup: tuple[FsspecArtifactStore, str, Path],
) -> None:
    store, _, tmp = setup
    task_uri, task = _task(store, store.uri_of("_code/" + "0" * 64 + ".tar.gz"), "add", [1])
    proc = _entrypoint(task_uri, tmp)
    assert proc.returncode == 2
    assert "code package not found" in proc.stderr
    result = _result(store, task)
    assert result.status == "failed" and "code package not found" in (result.error or "")


def test_usage_without_a_task_is_exit_2(tmp_path: Path) -> None:
    proc = _entrypoint("--help", tmp_path)
    assert proc.returncode == 2 and "usage: python -m flowyml.entrypoint" in proc.stderr


def test_refs_survive_the_task_round_trip() -> None:
    ref = ArtifactRef("file:///x/y.json", "builtins.int", "json", 2, "sha256:ab")
    handle = OutputHandle("a", "output", 7)
    from flowyml.runtime.tasks import decode_call

    arguments, inputs = decode_call(encode_call({"x": [handle, 3]}, ((handle, ref),)))
    assert arguments == {"x": [handle, 3]} and inputs == [(handle, ref)]
