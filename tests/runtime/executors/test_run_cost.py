"""Run cost where the step ran: priced from ``StepRecord.executor`` and its flavor's price rule
(Vertex machine + accelerators + markup, spot discount; a Kubernetes pod's share of its node;
"not priced" when the node is unknown), never from what the stack declares."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from flowyml.core.records import StepRecord, StepStatus
from flowyml.cost import hourly_price, run_step_costs
from flowyml.cost.runcost import node_share_hourly
from flowyml.stacks.components import ResourceConfig
from flowyml.stacks.gcp import GCPStack, GKEClusterSpec, NodePoolSpec

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _record(name: str, executor: str | None, resources: dict[str, object] | None) -> StepRecord:
    return StepRecord(
        run_id="r",
        name=name,
        status=StepStatus.COMPLETED,
        started_at=START,
        ended_at=START + timedelta(minutes=30),
        stack="prod",
        resources=resources,
        executor=executor,
    )


def _gke_stack() -> GCPStack:
    pools = [
        NodePoolSpec(name="default", resources=ResourceConfig(machine_type="n1-standard-4")),
        NodePoolSpec(
            name="gpu",
            resources=ResourceConfig(
                machine_type="n1-standard-8", gpu="nvidia-tesla-t4", gpu_count=2, preemptible=True
            ),
        ),
    ]
    return GCPStack(
        name="prod",
        project_id="my-project-123",
        bucket_name="my-bucket-123",
        use_vertex=False,
        cluster=GKEClusterSpec(node_pools=pools),
    )


def test_each_step_is_priced_where_it_ran_not_where_the_stack_says() -> None:
    stack = _gke_stack()  # declares a Kubernetes executor
    steps = [
        _record("local_one", "local", {"cpu": "2", "memory": "7.5Gi"}),
        _record("on_vertex", "vertex_ai", {"machine_type": "n1-standard-4", "preemptible": True}),
        _record("pod", "kubernetes", {"cpu": "2", "memory": "3Gi"}),
        _record(
            "gpu_pod",
            "kubernetes",
            {"cpu": "4", "memory": "4Gi", "gpu": "nvidia-tesla-t4", "gpu_count": 1},
        ),
        _record("remote_box", "remote", {"cpu": "2"}),
    ]
    costs = run_step_costs(steps, {"prod": stack}.get)

    assert costs["local_one"] == 0
    vertex = hourly_price(
        {"machine_type": "n1-standard-4", "preemptible": True}, "vertex_ai", "us-central1"
    )
    assert vertex is not None and costs["on_vertex"] == vertex / 2
    # n1-standard-4: 4 vCPU, 15 GB at 0.189999/h; 2 cpu is the larger share (1/2).
    assert costs["pod"] == D("0.189999") * D("0.5") / 2
    # The spot T4 pool: n1-standard-8 + 2 T4, 40% off; 1 of 2 GPUs is the largest share.
    node = (D("0.379998") + 2 * D("0.35")) * D("0.4")
    assert costs["gpu_pod"] == node * D("0.5") / 2
    assert costs["remote_box"] is None  # a remote engine's price is not known: not $0


def test_a_pod_on_an_unknown_node_is_not_priced() -> None:
    assert node_share_hourly({"cpu": "1"}, [], "us-central1") is None
    assert node_share_hourly({"cpu": "1"}, [{"machine_type": "zz-big-9"}], "us-central1") is None
    assert node_share_hourly(None, [{"machine_type": "n1-standard-4"}], "us-central1") is None
    # A GPU step with no GPU pool has no node to be priced on.
    assert (
        node_share_hourly({"gpu": "nvidia-l4", "cpu": "1"}, [{"machine_type": "n1-standard-4"}])
        is None
    )
