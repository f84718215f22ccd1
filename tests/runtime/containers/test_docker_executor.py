"""Steps in containers on the real Docker engine: each step in its own container, outputs in the
artifact store, records in the metadata store, logs kept; failures each with their reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.launch import bind_for_run
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.executors.docker import LABEL_RUN, LABEL_STEP
from flowyml.stacks import Stack
from flowyml.stacks.components import DockerConfig, DockerExecutor, SQLiteMetadataStore

pytestmark = pytest.mark.docker


def docker_stack(root: Path, base_image: str, **docker: Any) -> Stack:
    config = {"base_image": base_image, "env_vars": {"FLOWYML_TEST_MARKER": "m1"}} | docker
    return Stack(
        "dock",
        executor=DockerExecutor(max_workers=4),
        artifact_store={"kind": "local", "path": str(root / ".flowyml" / "artifacts")},
        metadata_store=SQLiteMetadataStore(path=str(root / ".flowyml" / "metadata.db")),
        docker=DockerConfig(**config),
    )


def _containers(client: Any, step: str) -> list[Any]:
    return client.containers.list(all=True, filters={"label": f"{LABEL_STEP}={step}"})


def test_each_step_runs_in_its_own_container_and_everything_is_recorded(
    project: Path, base_image: str, docker_client: Any
) -> None:
    stack = docker_stack(project, base_image)
    result = load_pipeline("pipelines.py:dock_demo").run(stack=stack)

    assert result.status is RunStatus.COMPLETED, result.error
    info = result["where"]
    # PID 1 of its own PID namespace: the entrypoint is the container's first process.
    assert info["pid"] == 1 != os.getpid()
    assert info["marker"] == "m1"  # the Docker settings' env_vars reach the container
    assert result["double"] == len(info["host"]) * 3
    records = bind_stack(stack).metadata_store.get_run(result.run_id).steps
    by_name = {r.name: r for r in records}
    assert {r.status for r in records} == {StepStatus.COMPLETED}
    assert all(r.executor == "docker" for r in records)
    # Two steps, two containers: each recorded its own.
    containers = {r.details["container"] for r in records}
    assert len(containers) == 2
    assert by_name["where"].outputs["output"].uri.startswith((project / ".flowyml").as_uri())
    store = bind_stack(stack).artifact_store
    log = store.get_bytes(by_name["where"].log_uri)
    assert log is not None and b"inside the container" in log
    assert b"doubling for" in (store.get_bytes(by_name["double"].log_uri) or b"")
    # Containers are removed once their step is recorded.
    assert _containers(docker_client, "where") == [] and _containers(docker_client, "double") == []


def test_a_code_change_reuses_the_image_and_ships_the_new_code(
    project: Path, base_image: str
) -> None:
    stack = docker_stack(project, base_image)
    first, _ = bind_for_run(load_pipeline("pipelines.py:dock_demo"), stack)
    source = project / "pipelines.py"
    source.write_text(
        source.read_text().replace(
            'len(info["host"]) * factor', 'len(info["host"]) * factor + 1000'
        )
    )
    pipeline = load_pipeline("pipelines.py:dock_demo")
    second, _ = bind_for_run(pipeline, stack)
    assert second.submission.image == first.submission.image
    assert second.submission.image_built is False
    assert second.submission.code_uri != first.submission.code_uri
    result = pipeline.run(stack=stack)
    assert result["double"] == len(result["where"]["host"]) * 3 + 1000


def test_a_step_raising_in_its_container_fails_with_its_traceback(
    project: Path, base_image: str
) -> None:
    result = load_pipeline("pipelines.py:dock_fail").run(stack=docker_stack(project, base_image))
    assert result.status is RunStatus.FAILED
    error = result.steps["explode"].error or ""
    assert "ValueError: bad input" in error and "pipelines.py" in error
    assert result.steps["explode"].executor == "docker"
    assert result.steps["double"].status is StepStatus.COMPLETED


def test_a_step_over_its_memory_limit_is_oom_killed_and_says_so(
    project: Path, base_image: str
) -> None:
    result = load_pipeline("pipelines.py:dock_oom").run(stack=docker_stack(project, base_image))
    record = result.steps["hog"]
    assert record.status is StepStatus.FAILED
    assert (record.error or "").startswith(
        "OOMKilled: step 'hog' used more memory than its limit of 64Mi"
    )
    assert record.details["exit_code"] == 137


def test_a_step_over_its_timeout_has_its_container_stopped(
    project: Path, base_image: str, docker_client: Any
) -> None:
    started = time.monotonic()
    result = load_pipeline("pipelines.py:dock_timeout").run(stack=docker_stack(project, base_image))
    record = result.steps["stuck"]
    assert record.status is StepStatus.FAILED
    assert "exceeded its timeout of 2 s" in (record.error or "")
    assert "its container was stopped" in (record.error or "")
    assert time.monotonic() - started < 50  # not the 60 s the step sleeps
    assert _containers(docker_client, "stuck") == []


def test_a_missing_image_is_refused_before_any_step_runs(project: Path) -> None:
    from flowyml.runtime.images.errors import ImageError

    stack = docker_stack(project, "unused").model_copy(
        update={"docker": DockerConfig(image="local/absent:1")}
    )
    with pytest.raises(ImageError, match="local/absent:1") as caught:
        load_pipeline("pipelines.py:dock_demo").run(stack=stack)
    assert "\n" not in str(caught.value)
    assert bind_stack(stack).metadata_store.list_runs() == []


def test_an_image_gone_from_the_engine_mid_run_fails_the_step_with_that_reason(
    project: Path, base_image: str, docker_client: Any
) -> None:
    from flowyml.pipeline.runner import run_pipeline

    pipeline = load_pipeline("pipelines.py:dock_demo")
    runtime, _ = bind_for_run(pipeline, docker_stack(project, base_image))
    docker_client.images.get(runtime.submission.image).tag("local/gone", "1")
    gone = runtime.with_submission(
        runtime.submission.__class__(**{**runtime.submission.__dict__, "image": "local/gone:1"})
    )
    docker_client.images.remove("local/gone:1")
    result = run_pipeline(pipeline, gone)
    error = result.steps["where"].error or ""
    assert result.steps["where"].status is StepStatus.FAILED
    assert "image local/gone:1 is not on the Docker engine" in error
    assert result.steps["double"].status is StepStatus.SKIPPED


def test_independent_steps_run_in_parallel_containers(project: Path, base_image: str) -> None:
    result = load_pipeline("pipelines.py:dock_parallel").run(
        stack=docker_stack(project, base_image)
    )
    assert result.status is RunStatus.COMPLETED, result.error
    windows = [(r.started_at, r.ended_at) for r in result.steps.values()]
    assert len(windows) == 4
    # All four were running at once: each started before any of them ended.
    assert max(start for start, _ in windows) < min(end for _, end in windows)  # type: ignore[operator]


def test_ctrl_c_stops_and_removes_every_container_of_the_run(
    project: Path, base_image: str, docker_client: Any
) -> None:
    script = project / "drive.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            from pathlib import Path
            from test_docker_executor import docker_stack
            from flowyml.cli.loader import load_pipeline
            load_pipeline("pipelines.py:dock_parallel").run(
                stack=docker_stack(Path({str(project)!r}), {base_image!r})
            )
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=project, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            running = [c for c in _containers(docker_client, "nap") if c.status == "running"]
            if running:
                break
            time.sleep(0.2)
        else:
            pytest.fail("no container of the run started within 120 s")
        run_id = running[0].labels[LABEL_RUN]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
    left = docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})
    assert left == []
    run = bind_stack(docker_stack(project, base_image)).metadata_store.get_run(run_id)
    assert run.status is RunStatus.CANCELLED
