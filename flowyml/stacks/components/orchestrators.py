"""Orchestrators: what schedules a pipeline's steps (``NoOrchestrator`` runs them directly)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.secret_refs import Secret

__all__ = [
    "AirflowOrchestrator",
    "KubeflowOrchestrator",
    "NoOrchestrator",
    "Orchestrator",
    "VertexAIOrchestrator",
]


class NoOrchestrator(Component):
    """Direct execution by flowyml's own runner (development)."""

    kind: Literal["none"] = "none"


class VertexAIOrchestrator(Component):
    """Vertex AI Pipelines.

    Attributes:
        project_id: GCP project.
        region: GCP region.
    """

    kind: Literal["vertex_ai"] = "vertex_ai"
    project_id: str
    region: str = "us-central1"

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.project_id", rules.check_gcp_project_id(self.project_id)) + problem(
            f"{path}.region", rules.check_gcp_region(self.region)
        )


class KubeflowOrchestrator(Component):
    """Kubeflow Pipelines.

    Attributes:
        host: KFP API endpoint (``None``: in-cluster default).
        namespace: Kubeflow namespace.
    """

    kind: Literal["kubeflow"] = "kubeflow"
    host: str | None = None
    namespace: str = "kubeflow"

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.namespace", rules.check_dns_label(self.namespace, "namespace"))


class AirflowOrchestrator(Component):
    """Apache Airflow: pipelines are written as DAG files.

    Attributes:
        dag_folder: Where DAG files are written.
        api_url: Airflow 3's API server (``http://host:8080``): ``flowyml run`` triggers the
            DAG through its REST API and follows the run (``None``: deploy only).
        api_username: The user ``api_url`` is called as (a JWT from ``/auth/token``).
        api_password: That user's password (secret; ``${VAR}`` recommended).
    """

    kind: Literal["airflow"] = "airflow"
    dag_folder: str
    api_url: str | None = None
    api_username: str | None = None
    api_password: Secret | None = None


Orchestrator = Annotated[
    NoOrchestrator | VertexAIOrchestrator | KubeflowOrchestrator | AirflowOrchestrator,
    Field(discriminator="kind"),
]
"""Any orchestrator, told apart by ``kind``."""
