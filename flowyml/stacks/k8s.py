"""``KubernetesStack``: steps in pods on an existing cluster, state on a persistent volume."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flowyml.stacks import rules
from flowyml.stacks.base import Stack, derived_field
from flowyml.stacks.components import (
    ArtifactStore,
    Executor,
    KubernetesExecutor,
    LocalArtifactStore,
    MetadataStore,
    SQLiteMetadataStore,
)
from flowyml.stacks.components._base import problem
from flowyml.stacks.errors import ValidationProblem
from flowyml.stacks.quantities import parse_bytes

__all__ = ["KubernetesStack"]


class KubernetesStack(Stack):
    """A stack on an existing Kubernetes cluster.

    The provisioned resources are a namespace, a service account and a persistent volume claim
    (``volume_size`` of ``storage_class``) mounted at ``mount_path`` in every step pod; the derived
    artifact store and SQLite metadata store live on that volume.

    Attributes:
        namespace: Namespace to create and run in.
        storage_class: Storage class of the volume.
        volume_size: Size of the volume (a quantity such as ``"10Gi"``).
        service_account: Service account the pods run as.
        kubeconfig: Path of the kubeconfig (``None``: the default lookup).
        context: kubeconfig context (``None``: the current one).
        mount_path: Where the volume is mounted in the pods.
    """

    stack_type = "kubernetes"
    example = 'KubernetesStack(name="k8s-cluster", namespace="flowyml", storage_class="standard")'
    needs_provisioning = True

    namespace: str = "flowyml"
    storage_class: str = "standard"
    volume_size: str = "10Gi"
    service_account: str = "flowyml-runner"
    kubeconfig: str | None = None
    context: str | None = None
    mount_path: str = Field(default="/mnt/flowyml", pattern=r"^/")
    executor: Executor = derived_field()
    artifact_store: ArtifactStore = derived_field()
    metadata_store: MetadataStore = derived_field()

    @field_validator("volume_size")
    @classmethod
    def _check_volume(cls, value: str) -> str:
        parse_bytes(value, "volume_size")
        return value

    def derived_components(self) -> dict[str, Any]:
        root = self.mount_path.rstrip("/")
        return {
            "executor": KubernetesExecutor(
                namespace=self.namespace, service_account=self.service_account
            ),
            "artifact_store": LocalArtifactStore(path=f"{root}/artifacts"),
            "metadata_store": SQLiteMetadataStore(path=f"{root}/metadata.db"),
        }

    def own_problems(self) -> list[ValidationProblem]:
        found = problem("namespace", rules.check_dns_label(self.namespace, "namespace"))
        found += problem(
            "service_account", rules.check_dns_label(self.service_account, "service account")
        )
        found += problem(
            "storage_class", rules.check_dns_label(self.storage_class, "storage class")
        )
        return found
