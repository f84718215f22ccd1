"""``flowyml build``: real subprocesses, the real Docker engine, the debootstrap base image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PIPELINE = """\
from flowyml import Pipeline, step
from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.components import (
    DockerConfig, DockerExecutor, LocalArtifactStore, SQLiteMetadataStore,
)

STACK = {stack}


@step
def hello() -> str:
    return "hi"


with Pipeline("demo", stack=STACK) as demo:
    hello()
"""

DOCKER_STACK = """Stack(
    "ci-docker",
    executor=DockerExecutor(),
    artifact_store=LocalArtifactStore(path="artifacts"),
    metadata_store=SQLiteMetadataStore(path="metadata.db"),
    docker=DockerConfig({docker}),
)"""


def flowyml(
    project: Path, *args: str, source: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``project``; with ``source``, the flowyml imported (and so put into
    images) is that snapshot of the checkout, which nobody edits while the test runs."""
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    env.pop("FLOWYML_STACK", None)
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _project(tmp_path: Path, stack: str) -> Path:
    (tmp_path / "pipeline.py").write_text(PIPELINE.format(stack=stack))
    return tmp_path


def test_local_stack_has_nothing_to_build(tmp_path: Path) -> None:
    project = _project(tmp_path, 'LocalStack(name="dev", artifact_path="a", metadata_path="m.db")')
    proc = flowyml(project, "build", "pipeline.py")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to build" in proc.stdout and "local executor" in proc.stdout


@pytest.mark.docker
def test_build_then_nothing_to_rebuild(
    tmp_path: Path,
    docker_client: Any,
    base_image: str,
    frozen_flowyml_source: Any,
) -> None:
    project = _project(tmp_path, DOCKER_STACK.format(docker=f"base_image={base_image!r}"))
    src = frozen_flowyml_source.root
    planned = flowyml(project, "build", "pipeline.py:demo", "--dry-run", "--json", source=src)
    assert planned.returncode == 0, planned.stderr
    [dry] = json.loads(planned.stdout)
    assert dry["executor"] == "docker" and "built" not in dry
    reference = dry["plan"]["reference"]
    assert reference.startswith("flowyml:") and dry["plan"]["base"] == base_image

    first = flowyml(project, "build", "pipeline.py", source=src)
    assert first.returncode == 0, first.stderr
    assert "stack ci-docker:" in first.stdout and reference in first.stdout
    out = docker_client.containers.run(
        reference, ["python3", "-c", "import flowyml"], remove=True, network_mode="none"
    )
    assert out == b""

    (project / "pipeline.py").write_text(
        (project / "pipeline.py").read_text() + "\n# a code change: the image stays\n"
    )
    again = flowyml(project, "build", "pipeline.py", "--json", source=src)
    assert again.returncode == 0, again.stderr
    [result] = json.loads(again.stdout)
    assert (result["reference"], result["built"], result["pushed"]) == (reference, False, False)


@pytest.mark.docker
def test_missing_image_is_one_error_line(
    tmp_path: Path,
    docker_client: Any,
) -> None:
    missing = "127.0.0.1:5000/flowyml-test/missing:nope"
    project = _project(tmp_path, DOCKER_STACK.format(docker=f"image={missing!r}"))
    proc = flowyml(project, "build", "pipeline.py")
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert missing in lines[0] and "To fix:" in lines[0]
