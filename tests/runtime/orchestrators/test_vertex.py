"""Vertex AI Pipelines: `flowyml run` on a Vertex stack sends the PipelineJob through the real
google-cloud-aiplatform client (REST, anonymous credentials) to a local fake endpoint (there is
no Vertex emulator; see fake_vertex.py), checked field by field; following it shows each step's
state, records the run as it goes and when it ends; --detach returns at once and the record is
brought up to date later; Ctrl-C asks Vertex to cancel; a schedule's request is checked and a run
it made, watched by no client, is recorded by the path such runs take."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from docker_env import free_port

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import (
    create_schedule,
    engine_for,
    refresh,
    run_orchestrated,
)
from flowyml.runtime.orchestrators.record import sync_stack
from flowyml.runtime.orchestrators.vertex import ENDPOINT_ENV
from flowyml.stacks import Stack
from flowyml.stacks.components import (
    DockerConfig,
    GCRContainerRegistry,
    GCSArtifactStore,
    LocalExecutor,
    SQLiteMetadataStore,
    VertexAIOrchestrator,
)
from runtime.orchestrators import fake_vertex

pytestmark = pytest.mark.docker
PARENT = "projects/my-project/locations/europe-west4"


@pytest.fixture
def vertex(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_vertex.FakeVertex]:
    fake, server = fake_vertex.start(free_port())
    monkeypatch.setenv(ENDPOINT_ENV, fake.url)
    yield fake
    server.shutdown()


@pytest.fixture(scope="module")
def step_image(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An image holding flowyml, made by flowyml's own builder (used as is by the stack)."""
    from flowyml.runtime.images.build import ensure_image

    made = ensure_image(
        DockerConfig(base_image=base_image),
        client=docker_client,
        registry=None,
        project_dir=tmp_path_factory.mktemp("image-project"),
    )
    return made.reference


def vertex_stack(project: Path, bucket: str, image: str) -> Stack:
    return Stack(
        "vtx",
        orchestrator=VertexAIOrchestrator(project_id="my-project", region="europe-west4"),
        executor=LocalExecutor(),
        artifact_store=GCSArtifactStore(bucket=bucket, prefix="artifacts"),
        metadata_store=SQLiteMetadataStore(path=str(project / ".flowyml" / "metadata.db")),
        container_registry=GCRContainerRegistry(uri="europe-west4-docker.pkg.dev/my-project/ml"),
        docker=DockerConfig(image=image),
    )


@pytest.fixture
def stack(project: Path, gcs_emulator: Any, step_image: str) -> Stack:
    return vertex_stack(project, gcs_emulator.new_bucket(), step_image)


def _created(fake: fake_vertex.FakeVertex) -> tuple[str, dict[str, Any]]:
    (found,) = [(p, b) for m, p, b in fake.requests if m == "POST" and "/pipelineJobs?" in p]
    return found


def test_the_pipeline_job_request_is_what_vertex_needs_field_by_field(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex, step_image: str
) -> None:
    bound = bind_stack(stack)
    result = run_orchestrated(load_pipeline("pipelines.py:orchestrated"), bound, detach=True)
    assert result.status is RunStatus.RUNNING
    path, job = _created(vertex)
    job_id = f"orchestrated-{result.run_id[:12]}"
    url = urlsplit(path)
    assert url.path == f"/v1/{PARENT}/pipelineJobs"
    assert parse_qs(url.query)["pipelineJobId"] == [job_id]
    assert job["displayName"] == "orchestrated"
    root = bound.artifact_store.root_uri
    assert job["runtimeConfig"]["gcsOutputDirectory"] == f"{root}/_vertex"
    assert job["runtimeConfig"]["parameterValues"] == {"flowyml_run_id": result.run_id}
    assert job["labels"] == {
        "flowyml-pipeline": "orchestrated",
        "flowyml-stack": "vtx",
        "flowyml-run": result.run_id,
    }
    assert "serviceAccount" not in job  # an unprovisioned stack has no runner account recorded
    spec = job["pipelineSpec"]
    assert spec["pipelineInfo"]["name"] == "orchestrated"
    executors = spec["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {step_image}
    scale = executors["exec-scale"]["container"]["resources"]
    assert scale["accelerator"] == {
        "type": "NVIDIA_TESLA_T4",
        "count": "1",
        "resourceType": "NVIDIA_TESLA_T4",
        "resourceCount": "1",
    }
    assert scale["resourceMemoryLimit"] == "16Gi"
    tasks = spec["root"]["dag"]["tasks"]["exit-handler-1"]
    assert tasks["componentRef"]["name"] == "comp-exit-handler-1"
    # Vertex takes no platform spec: placement is Kubeflow's business.
    assert "platformSpec" not in job
    # The record exists at once, running, so `runs show` finds it.
    assert bound.metadata_store.get_run(result.run_id).status is RunStatus.RUNNING


def test_following_shows_states_and_the_run_ends_recorded_like_a_local_run(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex
) -> None:
    bound = bind_stack(stack)
    lines: list[str] = []
    result = run_orchestrated(
        load_pipeline("pipelines.py:orchestrated"), bound, progress=lines.append, poll_s=0.05
    )
    assert result.status is RunStatus.COMPLETED, (result.error, lines)
    assert result["report"]["total"] == 45 and result["scale"][-1] == 45
    assert "load: SUCCEEDED" in lines and "report: SUCCEEDED" in lines
    assert any(line.startswith("submitted to vertex_ai: projects/") for line in lines)
    record = bound.metadata_store.get_run(result.run_id)
    assert record.status is RunStatus.COMPLETED and record.ended_at is not None
    assert {s.status for s in record.steps} == {StepStatus.COMPLETED}
    assert all(s.executor == "vertex_ai" for s in record.steps)
    assert all(s.outputs["output"].uri.startswith("gs://") for s in record.steps)


def test_detach_then_refresh_brings_the_record_up_to_date(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex
) -> None:
    bound = bind_stack(stack)
    result = run_orchestrated(load_pipeline("pipelines.py:orchestrated"), bound, detach=True)
    engine = engine_for(bound)
    (handle,) = vertex.jobs
    assert handle == f"{PARENT}/pipelineJobs/orchestrated-{result.run_id[:12]}"
    while engine.state(handle).final is None:
        pass  # the fake runs the job on its second read
    refreshed = refresh(bound, result.run_id)
    assert refreshed is not None and refreshed.status is RunStatus.COMPLETED
    assert bound.metadata_store.get_run(result.run_id).status is RunStatus.COMPLETED


def test_ctrl_c_while_following_cancels_the_job_and_records_the_run_cancelled(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex
) -> None:
    from flowyml.runtime.orchestrators import driver

    vertex.hold = True  # the job keeps running until cancelled
    bound = bind_stack(stack)
    compiled = driver.compile_pipeline(load_pipeline("pipelines.py:orchestrated"), bound)
    run_id = "c" * 32
    handle = compiled.engine.submit(compiled.artifact, compiled.manifest, run_id)
    driver._mark_submitted(compiled, run_id, handle)
    polls: list[str] = []

    class CtrlCAfterTwoPolls:
        """The real engine; Ctrl-C lands during its third poll, as a user's would."""

        kind = compiled.engine.kind

        def state(self, name: str) -> Any:
            polls.append(name)
            if len(polls) == 3:
                raise KeyboardInterrupt
            return compiled.engine.state(name)

        def cancel(self, name: str) -> None:
            compiled.engine.cancel(name)

    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        driver.follow(
            CtrlCAfterTwoPolls(),  # type: ignore[arg-type]
            bound,
            "orchestrated",
            run_id,
            handle,
            say=lines.append,
            poll_s=0.05,
        )
    cancels = [p for m, p, _ in vertex.requests if m == "POST" and ":cancel" in p]
    assert [urlsplit(p).path for p in cancels] == [f"/v1/{handle}:cancel"]
    assert vertex.jobs[handle]["state"] == "PIPELINE_STATE_CANCELLED"
    assert f"cancelling {handle} on vertex_ai..." in lines
    record = bound.metadata_store.get_run(run_id)
    assert record.status is RunStatus.CANCELLED and record.ended_at is not None


def test_a_schedule_is_created_listed_deleted_and_its_unwatched_run_is_recorded(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex
) -> None:
    bound = bind_stack(stack)
    name = create_schedule(load_pipeline("pipelines.py:orchestrated"), bound, "0 3 * * *")
    (body,) = [
        b for m, p, b in vertex.requests if m == "POST" and urlsplit(p).path.endswith("/schedules")
    ]
    assert body["displayName"] == "flowyml-orchestrated"
    assert body["cron"] == "0 3 * * *" and body["maxConcurrentRunCount"] == "1"
    request = body["createPipelineJobRequest"]
    assert request["parent"] == PARENT
    job = request["pipelineJob"]
    # A scheduled run has no flowyml client: its tasks derive the run id from the job's uuid.
    assert job["runtimeConfig"]["parameterValues"] == {"flowyml_run_id": ""}
    assert "flowyml-run" not in job["labels"]
    engine = engine_for(bound)
    (listed,) = engine.list_schedules()
    assert (listed.schedule_id, listed.pipeline, listed.cron) == (name, "orchestrated", "0 3 * * *")
    # Vertex fires the schedule: the job runs with nobody watching.
    assert vertex.run_job(json.loads(json.dumps(job))) == "PIPELINE_STATE_SUCCEEDED"
    (synced,) = sync_stack(bound)
    record = bound.metadata_store.get_run(synced.run_id)
    assert record.status is RunStatus.COMPLETED and len(record.steps) == 4
    # `runs list` shows it like any other run.
    assert [r.run_id for r in bound.metadata_store.list_runs()] == [record.run_id]
    engine.delete_schedule(name)
    assert engine.list_schedules() == []


def test_a_provisioned_gcp_stack_submits_as_its_runner_service_account(
    project: Path, gcs_emulator: Any, step_image: str, vertex: fake_vertex.FakeVertex
) -> None:
    from flowyml.core.outputs import (
        ARTIFACT_URI,
        METADATA_URL,
        PROJECT_ID,
        REGISTRY_URI,
        SERVICE_ACCOUNT,
        StackOutputs,
    )
    from flowyml.stacks.gcp import GCPStack

    bucket = gcs_emulator.new_bucket()
    runner = "flowyml-runner@my-project-123.iam.gserviceaccount.com"
    stack = GCPStack(
        "prod",
        project_id="my-project-123",
        region="europe-west4",
        bucket_name=bucket,
        docker=DockerConfig(image=step_image),
    )
    outputs = StackOutputs(
        stack="prod",
        values={
            ARTIFACT_URI: f"gs://{bucket}/artifacts",
            METADATA_URL: f"sqlite:///{project / 'prod.db'}",
            REGISTRY_URI: "europe-west4-docker.pkg.dev/my-project-123/flowyml",
            SERVICE_ACCOUNT: runner,
            PROJECT_ID: "my-project-123",
        },
        secrets=frozenset({METADATA_URL}),
        engine="emulated",
    )
    bound = bind_stack(stack, outputs)
    result = run_orchestrated(load_pipeline("pipelines.py:orchestrated"), bound, detach=True)
    path, job = _created(vertex)
    assert urlsplit(path).path == "/v1/projects/my-project-123/locations/europe-west4/pipelineJobs"
    assert job["serviceAccount"] == runner
    assert job["runtimeConfig"]["gcsOutputDirectory"] == f"gs://{bucket}/artifacts/_vertex"
    assert job["labels"]["flowyml-stack"] == "prod"
    assert bound.metadata_store.get_run(result.run_id).stack == "prod"


def test_flowyml_run_detach_prints_the_recorded_run(
    project: Path, stack: Stack, vertex: fake_vertex.FakeVertex
) -> None:
    import yaml
    from click.testing import CliRunner

    from flowyml.cli.main import cli

    data = {"stacks": {"vtx": {k: v for k, v in stack.to_dict().items() if k != "name"}}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    done = CliRunner().invoke(
        cli, ["run", "pipelines.py:orchestrated", "--stack", "vtx", "--detach", "--json"]
    )
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    assert printed["status"] == "running" and printed["stack"] == "vtx"
    (handle,) = vertex.jobs
    assert handle.endswith(f"/pipelineJobs/orchestrated-{printed['run_id'][:12]}")
