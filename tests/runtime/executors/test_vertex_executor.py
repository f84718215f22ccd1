"""Steps as Vertex AI custom jobs through the real ``google-cloud-aiplatform`` client (REST
transport, anonymous credentials) against a local fake JobService (no Vertex AI endpoint can be
reached from here) that runs each job's container on the real Docker engine; artifacts in the
GCS emulator's bucket, as on a provisioned GCP stack."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.outputs import (
    ARTIFACT_URI,
    EXECUTOR,
    EXECUTOR_ENDPOINT,
    METADATA_URL,
    PROJECT_ID,
    REGION,
    REGISTRY_URI,
    SERVICE_ACCOUNT,
    StackOutputs,
)
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.executors import vertex as vertex_executor

from .fake_vertex import FakeVertex

pytestmark = pytest.mark.docker

ACCOUNT = "runner-vx@my-project.iam.gserviceaccount.com"


@dataclass
class Vertex:
    stack: Any
    fake: FakeVertex
    bucket: str


@pytest.fixture
def vertex(
    project: Path,
    docker_client: Any,
    base_image: str,
    local_registry: str,
    gcs_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Vertex]:
    """A GCPStack recorded as provisioned (bucket on the GCS emulator, SQLite metadata, the
    local registry, the fake JobService as its Vertex AI endpoint)."""
    pytest.importorskip("google.cloud.aiplatform_v1", reason="pip install 'flowyml[gcp]'")
    from flowyml.provision.state import save_outputs
    from flowyml.stacks.components import DockerConfig, NoOrchestrator
    from flowyml.stacks.gcp import GCPStack

    fake = FakeVertex(docker_client).start()
    bucket = gcs_emulator.new_bucket()
    stack = GCPStack(
        name="vx",
        project_id="my-project",
        region="us-central1",
        bucket_name=bucket,
        database=None,
        service_account_id="runner-vx",
        docker=DockerConfig(base_image=base_image),
        orchestrator=NoOrchestrator(),  # steps on the executor, driven from here
    )
    save_outputs(
        StackOutputs(
            stack="vx",
            values={
                ARTIFACT_URI: f"gs://{bucket}",
                METADATA_URL: f"sqlite:///{project / 'metadata.db'}",
                REGISTRY_URI: local_registry,
                SERVICE_ACCOUNT: ACCOUNT,
                EXECUTOR: "vertex",
                EXECUTOR_ENDPOINT: fake.url,
                REGION: "us-central1",
                PROJECT_ID: "my-project",
            },
            engine="emulated",
        )
    )
    monkeypatch.setattr(vertex_executor, "POLL", 0.1)
    monkeypatch.setattr(vertex_executor, "POLL_MAX", 0.2)
    yield Vertex(stack, fake, bucket)
    fake.stop()
    assert fake.leftover_containers() == []


def test_a_pipeline_runs_end_to_end_as_custom_jobs(vertex: Vertex) -> None:
    result = load_pipeline("k8s_pipelines.py:vertex_demo").run(stack=vertex.stack)

    assert result.status is RunStatus.COMPLETED, result.error
    assert result["fit"] == "model"
    run = bind_stack(vertex.stack).metadata_store.get_run(result.run_id)
    records = {r.name: r for r in run.steps}
    assert {r.executor for r in records.values()} == {"vertex_ai"}
    fit = records["fit"]
    assert fit.details["job"].startswith("projects/my-project/locations/us-central1/customJobs/")
    assert fit.details["console"].startswith("https://console.cloud.google.com/vertex-ai/")
    assert "logs/query" in fit.details["logs"]
    assert fit.details["machine_type"] == "n1-standard-4"  # smallest catalogued fit of 4 cpu/15Gi
    # What the client really sent: the worker pool, SPOT scheduling, the runner account, staging.
    sent = next(r for r in vertex.fake.requests if r["labels"]["flowyml-step"] == "fit")
    spec = sent["jobSpec"]
    assert spec["serviceAccount"] == ACCOUNT
    assert spec["scheduling"]["strategy"] in ("SPOT", 4)
    assert spec["baseOutputDirectory"]["outputUriPrefix"].startswith(
        f"gs://{vertex.bucket}/_vertex/"
    )
    pool = spec["workerPoolSpecs"][0]
    assert pool["containerSpec"]["command"] == ["python3", "-m", "flowyml.entrypoint"]
    assert pool["containerSpec"]["args"][0].startswith(f"gs://{vertex.bucket}/")
    assert not any("SECRET" in e["name"] for e in pool["containerSpec"].get("env", []))
    log = bind_stack(vertex.stack).artifact_store.get_bytes(fit.log_uri)
    assert b"fitting on" in log
    methods = {m for m, _p in vertex.fake.calls}
    assert methods == {"POST", "GET"}  # create + get; nothing cancelled


def test_a_failed_job_records_the_steps_traceback_and_the_jobs_error(vertex: Vertex) -> None:
    result = load_pipeline("k8s_pipelines.py:vertex_fail").run(stack=vertex.stack)

    assert result.status is RunStatus.FAILED
    record = bind_stack(vertex.stack).metadata_store.get_run(result.run_id).steps[0]
    assert record.status is StepStatus.FAILED
    assert "ValueError: bad data in the bucket" in record.error
    assert "exited with a non-zero status of 1" in record.error
    assert record.details["state"] == "JOB_STATE_FAILED"


def test_ctrl_c_cancels_the_custom_job_and_the_run_ends_cancelled(vertex: Vertex) -> None:
    pipeline = load_pipeline("k8s_pipelines.py:long")

    def interrupt_once_running() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(j.state == "JOB_STATE_RUNNING" for j in vertex.fake.jobs.values()):
                time.sleep(0.5)
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(stack=vertex.stack)

    run = bind_stack(vertex.stack).metadata_store.list_runs()[0]
    assert run.status is RunStatus.CANCELLED
    assert [m for m, p in vertex.fake.calls if p.endswith(":cancel")] == ["POST"]
    assert {j.state for j in vertex.fake.jobs.values()} == {"JOB_STATE_CANCELLED"}
