"""Steps on a remote Docker engine (ssh:// through a real sshd to the real dockerd) with an
object-store artifact store (moto's S3 server), and a hybrid run declared in YAML."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from emulators import S3Emulator

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.errors import BindingError
from flowyml.stacks import Stack
from flowyml.stacks.components import (
    DockerConfig,
    RemoteExecutor,
    S3ArtifactStore,
    SQLiteMetadataStore,
)

pytestmark = pytest.mark.docker
HERE = Path(__file__).parent


def remote_stack(root: Path, endpoint: str, artifact_store: Any, base_image: str) -> Stack:
    return Stack(
        "remote-dock",
        executor=RemoteExecutor(endpoint=endpoint, max_workers=2),
        artifact_store=artifact_store,
        metadata_store=SQLiteMetadataStore(path=str(root / ".flowyml" / "metadata.db")),
        docker=DockerConfig(base_image=base_image),
    )


def test_steps_run_on_a_remote_engine_over_ssh_with_an_s3_store(
    project: Path, base_image: str, ssh_docker_engine: str, s3_emulator: S3Emulator
) -> None:
    bucket = s3_emulator.new_bucket()
    store = S3ArtifactStore(bucket=bucket, endpoint_url=s3_emulator.endpoint_url)
    stack = remote_stack(project, ssh_docker_engine, store, base_image)
    result = load_pipeline("pipelines.py:dock_demo").run(stack=stack)

    assert result.status is RunStatus.COMPLETED, result.error
    assert result["where"]["pid"] == 1 and result["where"]["marker"] is None
    records = bind_stack(stack).metadata_store.get_run(result.run_id).steps
    assert {r.executor for r in records} == {"remote"}
    assert {r.details["engine"] for r in records} == {ssh_docker_engine}
    keys = [o["Key"] for o in s3_emulator.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith(f"dock_demo/{result.run_id}/double/output") for k in keys)
    assert any(k.startswith("_code/") for k in keys)  # the code package travelled by S3


def test_a_remote_engine_with_a_store_on_this_disk_is_refused_in_one_line(
    project: Path, base_image: str
) -> None:
    local = {"kind": "local", "path": str(project / ".flowyml" / "artifacts")}
    stack = remote_stack(project, "ssh://root@build-box.example", local, base_image)
    with pytest.raises(BindingError, match="cannot reach the artifact store") as caught:
        load_pipeline("pipelines.py:dock_demo").run(stack=stack)
    assert "\n" not in str(caught.value)


def test_hybrid_run_moves_artifacts_between_a_local_and_a_docker_stack(
    project: Path, base_image: str
) -> None:
    (project / "flowyml.yaml").write_text(
        f"""
stacks:
  dock:
    type: custom
    executor: {{kind: docker, max_workers: 2}}
    artifact_store: {{kind: local, path: {project / "dock-artifacts"}}}
    metadata_store: {{kind: sqlite, path: {project / "dock.db"}}}
    docker: {{base_image: {base_image}}}
""",
        encoding="utf-8",
    )
    shutil.copy(HERE / "hybrid.py", project / "hybrid.py")
    local = Stack(
        "here",
        executor={"kind": "local"},
        artifact_store={"kind": "local", "path": str(project / "here-artifacts")},
        metadata_store=SQLiteMetadataStore(path=str(project / "here.db")),
    )
    result = load_pipeline("hybrid.py").run(stack=local)
    assert result.status is RunStatus.COMPLETED, result.error
    # PID 1 is the container's entrypoint; the local steps ran in this very process.
    assert result["train"] == {"mean": 4.5, "pid": 1}
    assert result["evaluate"] == {"score": 45.0, "pid": os.getpid()}
    assert result.steps["train"].executor == "docker" and result.steps["train"].stack == "dock"
    assert result.steps["preprocess"].executor == "local"
    # train's input was copied into the docker stack's store; its output back into ours.
    assert result.steps["train"].inputs["xs"].uri.startswith((project / "dock-artifacts").as_uri())
    assert (
        result.steps["evaluate"]
        .inputs["model"]
        .uri.startswith((project / "here-artifacts").as_uri())
    )
