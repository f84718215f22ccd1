"""The guide's hybrid example as written: preprocess and evaluate on the local stack, train on
the GCP stack (Vertex AI) with the guide's gpu_config."""

from __future__ import annotations

import os
from pathlib import Path

from flowyml import Pipeline, step
from flowyml.stacks import LocalStack
from flowyml.stacks.components import DockerConfig, NoOrchestrator, ResourceConfig
from flowyml.stacks.gcp import GCPStack

HERE = Path(os.environ.get("FLOWYML_PROJECT_DIR") or Path.cwd())
BUCKET = "flowyml-hybrid-test"

local_stack = LocalStack(
    name="laptop",
    artifact_path=str(HERE / "laptop" / "artifacts"),
    metadata_path=str(HERE / "laptop" / "metadata.db"),
)
gcp_stack = GCPStack(
    name="gcp-hybrid",
    project_id="my-project",
    region="us-central1",
    bucket_name=BUCKET,
    database=None,
    docker=DockerConfig(base_image="local/python3:bookworm"),
    orchestrator=NoOrchestrator(),
)

# GPU workload (the guide's)
gpu_config = ResourceConfig(
    cpu="16", memory="64Gi", gpu="nvidia-tesla-v100", gpu_count=4, machine_type="n1-highmem-16"
)


@step(stack=local_stack)
def preprocess() -> list[int]:
    return list(range(10))


@step(stack=gcp_stack, resources=gpu_config)
def train(xs: list[int]) -> dict:
    return {"mean": sum(xs) / len(xs), "where": os.environ.get("FLOWYML_STORAGE_OPTIONS", "")}


@step(stack=local_stack)
def evaluate(model: dict, xs: list[int]) -> float:
    return model["mean"] * len(xs)


with Pipeline("hybrid_vertex") as hybrid:
    data = preprocess()
    evaluate(train(data), data)
