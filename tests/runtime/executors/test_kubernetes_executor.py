"""Steps as Kubernetes Jobs: the API conversation against kmock (a Kubernetes API emulator, not
ours), each pod's container run on the real Docker engine by the test kubelet; every way a pod
can end is recorded with its reason and no Job, pod or container is left behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.launch import bind_for_run
from flowyml.pipeline.runner import run_pipeline
from flowyml.runtime.binding import bind_stack

from .conftest import Cluster

pytestmark = pytest.mark.docker


def _records(cluster: Cluster, run_id: str) -> dict[str, Any]:
    run = bind_stack(cluster.stack).metadata_store.get_run(run_id)
    return {r.name: r for r in run.steps}


def _nothing_left(cluster: Cluster) -> None:
    assert cluster.jobs() == []
    assert cluster.pods() == []
    assert cluster.secrets() == []
    deadline = time.monotonic() + 5  # the kubelet stops a deleted pod's container on its next tick
    while cluster.kubelet.leftover_containers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cluster.kubelet.leftover_containers() == []


def test_a_pipeline_runs_end_to_end_in_pods_and_everything_is_recorded(
    cluster: Cluster, capfd: pytest.CaptureFixture[str]
) -> None:
    result = load_pipeline("k8s_pipelines.py:demo").run(stack=cluster.stack)

    assert result.status is RunStatus.COMPLETED, result.error
    info = result["where"]
    assert info["uid"] == 10001  # the Job's non-root user
    assert info["home"] == "/tmp"
    assert result["double"] == len(info["host"]) * 3
    records = _records(cluster, result.run_id)
    assert {r.status for r in records.values()} == {StepStatus.COMPLETED}
    assert {r.executor for r in records.values()} == {"kubernetes"}
    jobs = {r.details["job"] for r in records.values()}
    assert len(jobs) == 2 and all(j.startswith("flowyml-") for j in jobs)
    assert {r.details["namespace"] for r in records.values()} == {"flowyml"}
    assert records["double"].details["node"] == "node-1"
    # The step's output streamed live, prefixed, and was kept as its log.
    err = capfd.readouterr().err
    assert "[where] inside the pod" in err
    log = bind_stack(cluster.stack).artifact_store.get_bytes(records["double"].log_uri)
    assert b"doubling for" in log
    # One Job per attempt, each created as the manifest builder says.
    created = [name for _t, name in cluster.kubelet.created_jobs]
    assert sorted(created) == sorted(jobs)
    _nothing_left(cluster)


def test_the_job_is_the_manifest_with_resources_and_service_account(cluster: Cluster) -> None:
    seen: list[Any] = []
    original = cluster.kubelet._create_pod

    def spy(key: Any, job: Any) -> None:
        seen.append(cluster.kubelet.batch.api_client.sanitize_for_serialization(job))
        original(key, job)

    cluster.kubelet._create_pod = spy  # type: ignore[method-assign]
    result = load_pipeline("k8s_pipelines.py:demo").run(stack=cluster.stack)
    assert result.ok, result.error
    double = next(j for j in seen if j["metadata"]["labels"]["flowyml.org/step"] == "double")
    spec = double["spec"]
    assert spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "flowyml-runner"
    container = pod["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert container["command"][:3] == ["python3", "-m", "flowyml.entrypoint"]
    assert {
        "name": "artifacts",
        "persistentVolumeClaim": {"claimName": "flowyml-artifacts"},
    } in pod["volumes"]


def test_an_image_that_cannot_be_pulled_fails_with_the_image_and_leaves_nothing(
    cluster: Cluster,
) -> None:
    pipeline = load_pipeline("k8s_pipelines.py:demo")
    bound, step_stacks = bind_for_run(pipeline, cluster.stack)
    missing = "127.0.0.1:5000/flowyml-test/missing:nope"
    from dataclasses import replace

    bound = bound.with_submission(replace(bound.submission, image=missing))
    result = run_pipeline(pipeline, bound, step_stacks=step_stacks)

    assert result.status is RunStatus.FAILED
    record = _records(cluster, result.run_id)["where"]
    assert record.status is StepStatus.FAILED
    assert "ImagePullBackOff" in record.error and missing in record.error
    assert _records(cluster, result.run_id)["double"].status is StepStatus.SKIPPED
    _nothing_left(cluster)


def test_an_unschedulable_pod_fails_after_the_pending_timeout_with_the_schedulers_message(
    cluster: Cluster,
) -> None:
    started = time.monotonic()
    result = load_pipeline("k8s_pipelines.py:gpu").run(stack=cluster.stack)
    took = time.monotonic() - started

    assert result.status is RunStatus.FAILED
    error = _records(cluster, result.run_id)["train"].error
    assert error.startswith("Unschedulable:"), error
    assert "Insufficient nvidia.com/gpu" in error
    assert took < 60  # it ended: a pending pod never hangs the run
    _nothing_left(cluster)


def test_an_oom_killed_pod_says_so_with_its_limit(cluster: Cluster) -> None:
    result = load_pipeline("k8s_pipelines.py:oom").run(stack=cluster.stack)

    assert result.status is RunStatus.FAILED
    error = _records(cluster, result.run_id)["hog"].error
    assert error.startswith("OOMKilled:") and "64Mi" in error, error
    _nothing_left(cluster)


def test_a_step_over_its_timeout_is_stopped_and_its_job_deleted(cluster: Cluster) -> None:
    result = load_pipeline("k8s_pipelines.py:deadline").run(stack=cluster.stack)

    assert result.status is RunStatus.FAILED
    error = _records(cluster, result.run_id)["stuck"].error
    # Kubernetes' activeDeadlineSeconds (counted from the Job's start) or the loop's own timeout
    # (counted from the pod's start) stops it, whichever comes first; both say so.
    assert "DeadlineExceeded" in error or "exceeded its timeout of 2 s" in error, error
    _nothing_left(cluster)


def test_a_reclaimed_spot_node_is_retried_and_both_attempts_recorded(cluster: Cluster) -> None:
    pipeline = load_pipeline("k8s_pipelines.py:spot")
    first = None

    def reclaim_first() -> None:
        nonlocal first
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not cluster.kubelet.created_jobs:
            time.sleep(0.02)
        first = cluster.kubelet.created_jobs[0][1]
        cluster.kubelet.reclaim.add(first)

    threading.Thread(target=reclaim_first, daemon=True).start()
    result = pipeline.run(stack=cluster.stack)

    assert result.status is RunStatus.COMPLETED, result.error
    record = _records(cluster, result.run_id)["on_spot"]
    assert record.attempts == 2
    created = [name for _t, name in cluster.kubelet.created_jobs]
    assert len(created) == 2 and created[0] == first and created[0].endswith("-1")
    assert created[1].endswith("-2")
    _nothing_left(cluster)


def test_ctrl_c_deletes_the_runs_jobs_and_the_run_ends_cancelled(cluster: Cluster) -> None:
    pipeline = load_pipeline("k8s_pipelines.py:long")

    def interrupt_once_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(p.phase == "Running" for p in cluster.kubelet.pods.values()):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(stack=cluster.stack)

    store = bind_stack(cluster.stack).metadata_store
    run = store.list_runs()[0]
    assert run.status is RunStatus.CANCELLED
    assert _records(cluster, run.run_id)["nap"].status is StepStatus.CANCELLED
    _nothing_left(cluster)


def test_a_gpu_step_on_a_cluster_without_gpu_pools_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    from flowyml.runtime.executors.kubernetes_access import ClusterTarget
    from flowyml.runtime.executors.kubernetes_checks import _cluster_problem

    target = ClusterTarget(
        namespace="flowyml",
        service_account=None,
        provider="gke",
        volume=None,
        identity=True,
        node_pools=(("default", {"machine_type": "e2-standard-2"}),),
    )
    problem = _cluster_problem(target, {"gpu": "nvidia-tesla-t4", "gpu_count": 1})
    assert problem is not None and "node pools (default) have none" in problem[0]
    with_gpu = ClusterTarget(
        **{
            **target.__dict__,
            "node_pools": (
                (
                    "gpu",
                    {"machine_type": "n1-standard-4", "gpu": "nvidia-tesla-t4", "gpu_count": 1},
                ),
            ),
        }
    )
    assert _cluster_problem(with_gpu, {"gpu": "nvidia-tesla-t4", "gpu_count": 1}) is None
    assert _cluster_problem(with_gpu, {"gpu": "nvidia-l4", "gpu_count": 1}) is not None


def test_a_job_deleted_by_someone_else_fails_the_step_instead_of_hanging(cluster: Cluster) -> None:
    pipeline = load_pipeline("k8s_pipelines.py:long")

    def delete_once_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = [p for p in cluster.kubelet.pods.values() if p.phase == "Running"]
            if running:
                cluster.kubelet.batch.delete_namespaced_job(running[0].job, "flowyml")
                return
            time.sleep(0.05)

    threading.Thread(target=delete_once_running, daemon=True).start()
    started = time.monotonic()
    result = pipeline.run(stack=cluster.stack)

    assert time.monotonic() - started < 30  # the 60 s step did not keep the run waiting
    assert result.status is RunStatus.FAILED
    error = _records(cluster, result.run_id)["nap"].error
    assert "was deleted before it finished" in error, error
    _nothing_left(cluster)
