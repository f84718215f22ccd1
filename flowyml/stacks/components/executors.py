"""Executors: where a pipeline's steps run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem

__all__ = [
    "Executor",
    "KubernetesExecutor",
    "LocalExecutor",
    "RemoteExecutor",
    "VertexAIExecutor",
]


class LocalExecutor(Component):
    """Runs steps on this machine, in threads (default) or processes.

    Attributes:
        max_workers: Concurrent steps; ``None`` lets the runner decide.
        use_processes: Use a process pool (for CPU-bound steps).
    """

    kind: Literal["local"] = "local"
    max_workers: int | None = Field(default=None, ge=1)
    use_processes: bool = False


class RemoteExecutor(Component):
    """Submits steps to a remote compute service over HTTP(S).

    Attributes:
        endpoint: The service URL.
    """

    kind: Literal["remote"] = "remote"
    endpoint: str = Field(pattern=r"^https?://\S+$")


class KubernetesExecutor(Component):
    """Runs each step in a Kubernetes pod.

    Attributes:
        namespace: Namespace of the pods.
        service_account: Service account the pods run as.
        image: Image of the pods (else the stack's Docker settings decide).
    """

    kind: Literal["kubernetes"] = "kubernetes"
    namespace: str = "flowyml"
    service_account: str | None = None
    image: str | None = None

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.namespace", rules.check_dns_label(self.namespace, "namespace"))


class VertexAIExecutor(Component):
    """Runs each step as a Vertex AI custom job.

    Attributes:
        project_id: GCP project.
        region: GCP region.
        service_account: Service account email the jobs run as.
    """

    kind: Literal["vertex_ai"] = "vertex_ai"
    project_id: str
    region: str = "us-central1"
    service_account: str | None = None

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.project_id", rules.check_gcp_project_id(self.project_id)) + problem(
            f"{path}.region", rules.check_gcp_region(self.region)
        )


Executor = Annotated[
    LocalExecutor | RemoteExecutor | KubernetesExecutor | VertexAIExecutor,
    Field(discriminator="kind"),
]
"""Any executor, told apart by ``kind``."""
