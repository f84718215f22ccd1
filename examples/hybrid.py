"""The guide's hybrid execution: some steps local, the training step on another stack.

    flowyml run examples/hybrid.py                  # everything on this machine (two stacks)
    FLOWYML_HYBRID_CLOUD=1 flowyml run examples/hybrid.py   # train on GCP (see below)

As in the Stack Architecture Guide, ``preprocess`` and ``evaluate`` run on ``local_stack`` and
``train`` on its own stack. By default that stack is a second local stack with its own artifact
store (``.flowyml/trainer/``), standing in for the cloud: the run shows the data really moving
between two stores (``train``'s input is copied into the trainer's store, its output back).

With ``FLOWYML_HYBRID_CLOUD=1`` ``train`` runs on ``gcp_stack`` with ``gpu_config``. That needs a
cloud: a GCP project (``GCP_PROJECT_ID``, ``GCP_BUCKET``), credentials, and the stack brought up
first (``flowyml stack preview production --offline`` shows what that creates and costs;
``flowyml stack up production`` needs the Pulumi CLI). Without them the run refuses in one line
before any step starts.
"""

from __future__ import annotations

import os

from flowyml import Pipeline, step
from flowyml.stacks import LocalStack
from flowyml.stacks.components import ResourceConfig
from flowyml.stacks.gcp import GCPStack

local_stack = LocalStack(name="local")
gcp_stack = GCPStack(
    name="production",
    project_id=os.environ.get("GCP_PROJECT_ID", "my-gcp-project"),
    region=os.environ.get("GCP_REGION", "us-central1"),
    bucket_name=os.environ.get("GCP_BUCKET", "my-artifacts"),
)
gpu_config = ResourceConfig(cpu="8", memory="32Gi", gpu="nvidia-tesla-v100", gpu_count=1)

ON_CLOUD = os.environ.get("FLOWYML_HYBRID_CLOUD") == "1"
trainer_stack = (
    gcp_stack
    if ON_CLOUD
    else LocalStack(
        name="trainer",
        artifact_path=".flowyml/trainer/artifacts",
        metadata_path=".flowyml/trainer/metadata.db",
    )
)


@step(stack=local_stack)
def preprocess(n: int = 200) -> list[tuple[float, float]]:
    """Points on the line y = 3x + 1."""
    return [(i / n, 3 * (i / n) + 1) for i in range(n)]


@step(stack=trainer_stack, resources=gpu_config if ON_CLOUD else None)
def train(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least squares for slope and intercept (the step that wants a GPU in the guide)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return {"slope": slope, "intercept": mean_y - slope * mean_x}


@step(stack=local_stack)
def evaluate(model: dict[str, float], points: list[tuple[float, float]]) -> dict[str, float]:
    """Mean absolute error of the fitted line."""
    errors = [abs(model["slope"] * x + model["intercept"] - y) for x, y in points]
    return {"mae": sum(errors) / len(errors)}


with Pipeline("hybrid", stack=local_stack) as hybrid:
    points = preprocess()
    evaluate(train(points), points)


if __name__ == "__main__":
    result = hybrid.run()
    print(f"run {result.run_id}: {result.status}")
    print("model:", result["train"], "metrics:", result["evaluate"])
