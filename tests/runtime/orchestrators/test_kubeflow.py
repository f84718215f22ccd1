"""Kubeflow Pipelines: `flowyml run` submits the compiled spec through the real `kfp.Client`
to a local fake of KFP's REST API (no KFP server can run here; see fake_kfp.py), follows it to
the end and records it; Ctrl-C terminates it; a recurring run is created (KFP's six-field cron),
listed and deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from docker_env import free_port

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import create_schedule, engine_for, run_orchestrated
from flowyml.stacks import Stack
from flowyml.stacks.components import DockerConfig, KubeflowOrchestrator
from runtime.orchestrators import fake_kfp
from runtime.orchestrators.helpers import kubeflow_stack

pytestmark = pytest.mark.docker


@pytest.fixture
def kfp_api() -> Iterator[fake_kfp.FakeKfp]:
    fake, server = fake_kfp.start(free_port())
    yield fake
    server.shutdown()


@pytest.fixture(scope="module")
def step_image(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An image holding flowyml, made by flowyml's own builder (the stack uses it as is)."""
    from flowyml.runtime.images.build import ensure_image

    return ensure_image(
        DockerConfig(base_image=base_image),
        client=docker_client,
        registry=None,
        project_dir=tmp_path_factory.mktemp("image-project"),
    ).reference


def _stack(project: Path, url: str, image: str) -> Stack:
    return kubeflow_stack(project).model_copy(
        update={
            "orchestrator": KubeflowOrchestrator(host=url, namespace="team"),
            "docker": DockerConfig(image=image),
        }
    )


def test_a_run_is_submitted_through_kfp_client_followed_and_recorded(
    project: Path, kfp_api: fake_kfp.FakeKfp, step_image: str
) -> None:
    bound = bind_stack(_stack(project, kfp_api.url, step_image))
    lines: list[str] = []
    result = run_orchestrated(
        load_pipeline("pipelines.py:orchestrated"), bound, progress=lines.append, poll_s=0.05
    )
    assert result.status is RunStatus.COMPLETED, (result.error, lines)
    (created,) = [
        b for m, p, b in kfp_api.requests if m == "POST" and urlsplit(p).path.endswith("/runs")
    ]
    (experiment,) = kfp_api.experiments.values()
    assert experiment["display_name"] == "flowyml" and experiment["namespace"] == "team"
    assert created["experiment_id"] == experiment["experiment_id"]
    assert created["display_name"] == f"orchestrated-{result.run_id[:12]}"
    assert created["runtime_config"]["parameters"] == {"flowyml_run_id": result.run_id}
    spec = created["pipeline_spec"]
    # The GPU step's placement travels as the platform spec beside the pipeline spec.
    platform = spec["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert platform["exec-scale"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    executors = spec["pipeline_spec"]["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {step_image}
    assert "scale: SUCCEEDED" in lines
    record = bound.metadata_store.get_run(result.run_id)
    assert {s.status for s in record.steps} == {StepStatus.COMPLETED}
    assert result["report"]["total"] == 45


def test_ctrl_c_terminates_the_kfp_run(
    project: Path, kfp_api: fake_kfp.FakeKfp, step_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.runtime.orchestrators import kubeflow

    kfp_api.hold = True
    bound = bind_stack(_stack(project, kfp_api.url, step_image))
    polls: list[int] = []
    real_state = kubeflow.KubeflowEngine.state

    def state(self: Any, handle: str) -> Any:
        polls.append(1)
        if len(polls) == 3:
            raise KeyboardInterrupt  # where a user's Ctrl-C lands: while following
        return real_state(self, handle)

    monkeypatch.setattr(kubeflow.KubeflowEngine, "state", state)
    with pytest.raises(KeyboardInterrupt):
        run_orchestrated(load_pipeline("pipelines.py:orchestrated"), bound, poll_s=0.05)
    (run,) = kfp_api.runs.values()
    assert run["state"] == "CANCELED"
    assert [p for m, p, _ in kfp_api.requests if p.endswith(":terminate")]
    (record,) = bound.metadata_store.list_runs()
    assert record.status is RunStatus.CANCELLED


def test_a_recurring_run_is_created_listed_and_deleted(
    project: Path, kfp_api: fake_kfp.FakeKfp, step_image: str
) -> None:
    bound = bind_stack(_stack(project, kfp_api.url, step_image))
    made = create_schedule(load_pipeline("pipelines.py:orchestrated"), bound, "0 3 * * *")
    body = kfp_api.recurring[made]
    assert body["display_name"] == "flowyml-orchestrated"
    assert body["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"
    assert int(body["max_concurrency"]) == 1
    assert body["runtime_config"]["parameters"] == {"flowyml_run_id": ""}
    engine = engine_for(bound)
    (listed,) = engine.list_schedules()
    assert (listed.schedule_id, listed.pipeline, listed.cron) == (
        made,
        "orchestrated",
        "0 0 3 * * *",
    )
    engine.delete_schedule(made)
    assert engine.list_schedules() == []
