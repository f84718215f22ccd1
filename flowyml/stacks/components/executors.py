"""Executors: where a pipeline's steps run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem

__all__ = [
    "DockerExecutor",
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


class DockerExecutor(Component):
    """Runs each step in its own container on this machine's Docker engine.

    Attributes:
        max_workers: Containers running at once (default 4).
        network: Docker network of the containers (``host`` reaches services on 127.0.0.1).
        pull: Pull a missing ``image=`` from its registry before the run.
    """

    kind: Literal["docker"] = "docker"
    max_workers: int = Field(default=4, ge=1)
    network: str = "host"
    pull: bool = True


class RemoteExecutor(Component):
    """Runs each step in its own container on a remote Docker engine.

    Attributes:
        endpoint: The engine: ``ssh://user@host[:port]`` (keys from ``~/.ssh``) or
            ``tcp://host:2376`` (TLS from ``DOCKER_CERT_PATH``, as the docker CLI does).
        max_workers: Containers running at once on that engine (default 4).
        network: Docker network of the containers on that engine.
    """

    kind: Literal["remote"] = "remote"
    endpoint: str = Field(pattern=r"^(ssh|tcp)://\S+$")
    max_workers: int = Field(default=4, ge=1)
    network: str = "host"


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
    LocalExecutor | DockerExecutor | RemoteExecutor | KubernetesExecutor | VertexAIExecutor,
    Field(discriminator="kind"),
]
"""Any executor, told apart by ``kind``."""
