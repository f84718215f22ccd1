"""Stacks the orchestrator tests use: each orchestrator on a local artifact store and SQLite."""

from __future__ import annotations

from pathlib import Path

from flowyml.stacks import Stack
from flowyml.stacks.components import (
    AirflowOrchestrator,
    DockerConfig,
    GCRContainerRegistry,
    KubeflowOrchestrator,
    LocalExecutor,
    SQLiteMetadataStore,
)


def stores(root: Path) -> dict[str, object]:
    """A local artifact store and a SQLite metadata store under ``root/.flowyml`` (and the
    local executor: the orchestrator runs the steps)."""
    return {
        "executor": LocalExecutor(),
        "artifact_store": {"kind": "local", "path": str(root / ".flowyml" / "artifacts")},
        "metadata_store": SQLiteMetadataStore(path=str(root / ".flowyml" / "metadata.db")),
    }


def kubeflow_stack(root: Path, base: str = "local/python3:bookworm", **extra: object) -> Stack:
    """Kubeflow with a host (never contacted by compile), a registry (compile only plans the
    image: nothing is pushed) and a base image."""
    return Stack(
        "kfp",
        orchestrator=KubeflowOrchestrator(host="http://127.0.0.1:9", namespace="team"),
        container_registry=GCRContainerRegistry(uri="gcr.io/my-project"),
        docker=DockerConfig(base_image=base),
        **(stores(root) | extra),  # type: ignore[arg-type]
    )


def airflow_stack(root: Path, **extra: object) -> Stack:
    """Airflow writing DAGs into ``root/dags``; tasks run on Airflow's workers (BashOperator)."""
    return Stack(
        "air",
        orchestrator=AirflowOrchestrator(dag_folder=str(root / "dags")),
        **(stores(root) | extra),  # type: ignore[arg-type]
    )
