"""Container registries: where step images are pushed. Each has a ``uri``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from flowyml.stacks import rules
from flowyml.stacks.components._base import Component, problem
from flowyml.stacks.errors import ValidationProblem

__all__ = [
    "ContainerRegistry",
    "DockerHubRegistry",
    "ECRContainerRegistry",
    "GCRContainerRegistry",
]


class GCRContainerRegistry(Component):
    """Google Container Registry or Artifact Registry.

    Attributes:
        uri: ``gcr.io/<project>`` or ``<region>-docker.pkg.dev/<project>/<repository>``.
    """

    kind: Literal["gcr"] = "gcr"
    uri: str

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(
            f"{path}.uri",
            rules.check_gcr_registry_uri(self.uri),
            "use gcr.io/<project> or <region>-docker.pkg.dev/<project>/<repository>",
        )


class ECRContainerRegistry(Component):
    """AWS Elastic Container Registry.

    Attributes:
        uri: ``<account>.dkr.ecr.<region>.amazonaws.com[/repository]``.
    """

    kind: Literal["ecr"] = "ecr"
    uri: str

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(
            f"{path}.uri",
            rules.check_ecr_registry_uri(self.uri),
            rules.ecr_registry_hint(self.uri),
        )


class DockerHubRegistry(Component):
    """Docker Hub, under a user or organisation namespace.

    Attributes:
        namespace: Docker Hub user or organisation.
    """

    kind: Literal["dockerhub"] = "dockerhub"
    namespace: str

    @property
    def uri(self) -> str:
        """``docker.io/<namespace>``."""
        return f"docker.io/{self.namespace}"

    def problems(self, path: str) -> list[ValidationProblem]:
        return problem(f"{path}.namespace", rules.check_dockerhub_namespace(self.namespace))


ContainerRegistry = Annotated[
    GCRContainerRegistry | ECRContainerRegistry | DockerHubRegistry,
    Field(discriminator="kind"),
]
"""Any container registry, told apart by ``kind``."""
