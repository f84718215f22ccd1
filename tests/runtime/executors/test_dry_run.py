"""``flowyml run FILE --stack NAME --dry-run [--json]``: nothing built, nothing submitted; each
step's submission (a Job manifest kubernetes-validate accepts, a CustomJob request the
aiplatform types parse) and the run's cost from the catalog and earlier runs' durations."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowyml.cli.main import cli
from flowyml.cost import hourly_price
from flowyml.runtime.binding import bind_stack

from .conftest import Cluster

KUBE_YAML = """stacks:
  kube:
    type: kubernetes
    namespace: flowyml
    kubeconfig: {kubeconfig}
    mount_path: {mount}
    docker:
      base_image: {base}
"""


def _dry_run(project: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["run", *args, "--dry-run", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.docker
def test_a_kubernetes_dry_run_builds_and_submits_nothing_and_prices_from_history(
    cluster: Cluster, project: Path, docker_client: Any, base_image: str
) -> None:
    import kubernetes_validate

    (project / "flowyml.yaml").write_text(
        KUBE_YAML.format(
            kubeconfig=cluster.stack.kubeconfig, mount=cluster.stack.mount_path, base=base_image
        ),
        encoding="utf-8",
    )
    images_before = {i.id for i in docker_client.images.list()}
    first = _dry_run(project, "k8s_pipelines.py:demo", "--stack", "kube")

    assert cluster.kubelet.created_jobs == []  # nothing submitted
    assert {i.id for i in docker_client.images.list()} == images_before  # nothing built
    assert [s["name"] for s in first["steps"]] == ["where", "double"]
    for step in first["steps"]:
        job = step["submission"]["kubernetes_job"]
        kubernetes_validate.validate(job, "1.30", strict=True)  # raises on a bad manifest
        assert job["spec"]["backoffLimit"] == 0
        assert step["note"] == "no history" or "node pool" in step["note"]
    image = first["images"]["kube"]["plan"]["reference"]
    assert (
        image.startswith("127.0.0.1:5000/")
        and image
        == (
            first["steps"][0]["submission"]["kubernetes_job"]["spec"]["template"]["spec"][
                "containers"
            ][0]["image"]
        )
    )
    # A plain cluster names no node pools: its pods are "not priced", never $0.
    assert first["steps"][1]["hourly_usd"] is None
    assert first["total_complete"] is False

    # After a real run, the dry run knows each step's duration.
    from flowyml.cli.loader import load_pipeline

    assert load_pipeline("k8s_pipelines.py:demo").run(stack=cluster.stack).ok
    again = _dry_run(project, "k8s_pipelines.py:demo", "--stack", "kube")
    assert all(s["estimated_seconds"] and s["estimated_seconds"] > 0 for s in again["steps"])


def test_a_vertex_dry_run_prints_the_custom_jobs_and_their_cost(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("google.cloud.aiplatform_v1", reason="pip install 'flowyml[gcp]'")
    from google.cloud.aiplatform_v1 import types

    from flowyml.core.outputs import (
        ARTIFACT_URI,
        METADATA_URL,
        PROJECT_ID,
        REGION,
        REGISTRY_URI,
        SERVICE_ACCOUNT,
        StackOutputs,
    )
    from flowyml.core.records import RunRecord, RunStatus, StepRecord, StepStatus
    from flowyml.provision.state import save_outputs
    from flowyml.stacks.components import DockerConfig, NoOrchestrator
    from flowyml.stacks.gcp import GCPStack

    stack = GCPStack(
        name="vx",
        project_id="my-project",
        bucket_name="my-bucket-vx",
        database=None,
        docker=DockerConfig(base_image="local/python3:bookworm"),
        orchestrator=NoOrchestrator(),
    )
    save_outputs(
        StackOutputs(
            stack="vx",
            values={
                ARTIFACT_URI: "gs://my-bucket-vx",
                METADATA_URL: f"sqlite:///{tmp_path / 'm.db'}",
                REGISTRY_URI: "us-central1-docker.pkg.dev/my-project/flowyml",
                SERVICE_ACCOUNT: "runner@my-project.iam.gserviceaccount.com",
                REGION: "us-central1",
                PROJECT_ID: "my-project",
            },
            engine="emulated",
        )
    )
    # An earlier run of this pipeline: `fit` took 30 minutes.
    from datetime import datetime, timedelta, timezone

    store = bind_stack(stack).metadata_store
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    store.start_run(RunRecord("r0", "vertex_demo", RunStatus.RUNNING, start, stack="vx"))
    store.save_steps(
        [
            StepRecord("r0", "fit", StepStatus.COMPLETED, start, start + timedelta(minutes=30)),
            StepRecord("r0", "where", StepStatus.COMPLETED, start, start + timedelta(minutes=1)),
        ]
    )
    store.finish_run("r0", RunStatus.COMPLETED)

    from flowyml.cli.loader import load_pipeline
    from flowyml.runtime.dryrun import dry_run, render_dry_run

    plan = dry_run(load_pipeline("k8s_pipelines.py:vertex_demo"), stack=stack)
    fit = next(s for s in plan.steps if s.name == "fit")
    request = fit.submission["vertex_custom_job"]
    parsed = types.CustomJob.from_json(json.dumps(request["custom_job"]))  # a wrong field fails
    pool = parsed.job_spec.worker_pool_specs[0]
    assert pool.machine_spec.machine_type == "n1-standard-4"
    assert parsed.job_spec.scheduling.strategy == types.Scheduling.Strategy.SPOT
    expected = hourly_price({"cpu": "4", "memory": "15Gi", "preemptible": True}, "vertex_ai")
    assert fit.hourly == expected and fit.seconds == 1800
    assert fit.cost == expected / 2  # type: ignore[operator]
    assert plan.total == sum((s.cost for s in plan.steps if s.cost), Decimal(0))
    text = "\n".join(render_dry_run(plan))
    assert "Estimated run cost" in text and "workerPoolSpecs" in text


def test_a_dry_run_refuses_a_gpu_on_the_wrong_machine_family(project: Path, tmp_path: Path) -> None:
    from flowyml.core.errors import FlowymlError
    from flowyml.core.outputs import (
        ARTIFACT_URI,
        METADATA_URL,
        PROJECT_ID,
        REGION,
        REGISTRY_URI,
        StackOutputs,
    )
    from flowyml.pipeline import Pipeline, step
    from flowyml.provision.state import save_outputs
    from flowyml.runtime.dryrun import dry_run
    from flowyml.stacks.components import NoOrchestrator, ResourceConfig
    from flowyml.stacks.gcp import GCPStack

    stack = GCPStack(
        name="vg",
        project_id="my-project",
        bucket_name="b-vg",
        database=None,
        orchestrator=NoOrchestrator(),
    )
    save_outputs(
        StackOutputs(
            stack="vg",
            values={
                ARTIFACT_URI: "gs://b-vg",
                METADATA_URL: f"sqlite:///{tmp_path / 'm.db'}",
                REGISTRY_URI: "gcr.io/my-project",
                REGION: "us-central1",
                PROJECT_ID: "my-project",
            },
        )
    )
    wrong = step(
        resources=ResourceConfig(machine_type="e2-standard-4", gpu="nvidia-tesla-v100", gpu_count=1)
    )(lambda: 1)
    with Pipeline("gpu_wrong") as p:
        wrong()
    with pytest.raises(FlowymlError) as caught:
        dry_run(p, stack=stack)
    message = str(caught.value)
    assert "does not attach to machine_type e2-standard-4" in message and "\n" not in message
