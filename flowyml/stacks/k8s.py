"""``KubernetesStack``: steps in pods on an existing cluster, state on a persistent volume."""

from __future__ import annotations

from typing import Any, Literal

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

__all__ = ["RWO_ONLY_STORAGE_CLASSES", "KubernetesStack"]

RWO_ONLY_STORAGE_CLASSES: dict[str, str] = {
    "standard-rwo": "GKE Persistent Disk (pd-balanced)",
    "premium-rwo": "GKE Persistent Disk (pd-ssd)",
    "gp2": "EKS EBS gp2",
    "gp3": "EKS EBS gp3",
    "managed-csi": "AKS Azure Disk",
    "managed-csi-premium": "AKS Azure Disk (premium)",
}
"""Well-known storage classes whose volumes are block disks: they attach to one node only."""

SHARED_VOLUME_WARNING = (
    "the artifacts (and SQLite metadata) live on one ReadWriteOnce volume claim: a volume of "
    "that mode attaches to one node at a time, so step pods scheduled on other nodes wait "
    "(Multi-Attach error) until it is released. To fix: set access_mode: ReadWriteMany with a "
    "ReadWriteMany storage class (Filestore, EFS, Azure Files, NFS), or declare an object-store "
    "artifact_store (gs://, s3://) and a PostgreSQL metadata_store"
)


class KubernetesStack(Stack):
    """A stack on an existing Kubernetes cluster.

    The provisioned resources are a namespace, a service account and a persistent volume claim
    (``volume_size`` of ``storage_class``, ``access_mode``) mounted at ``mount_path`` in every step
    pod; the derived artifact store and SQLite metadata store live on that volume.

    Why the access mode matters: every step runs in its own pod. A ``ReadWriteOnce`` volume
    attaches to one node, so steps spread over several nodes cannot share it (the preview says
    so). Either use a ``ReadWriteMany`` class, or give an object-store ``artifact_store`` and a
    server ``metadata_store``: then no volume is created at all.

    Attributes:
        namespace: Namespace to create and run in.
        storage_class: Storage class of the volume.
        access_mode: ``ReadWriteOnce`` (one node at a time) or ``ReadWriteMany`` (shared; the
            storage class must support it).
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
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = "ReadWriteOnce"
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

    @property
    def uses_volume(self) -> bool:
        """Whether a store lives on the claim (else no volume is provisioned)."""
        root = self.mount_path.rstrip("/") + "/"
        paths = [
            getattr(store, "path", None)
            for store in (self.artifact_store, self.metadata_store)
            if getattr(store, "kind", None) in ("local", "sqlite")
        ]
        return any(str(p).startswith(root) for p in paths if p)

    def own_problems(self) -> list[ValidationProblem]:
        found = problem("namespace", rules.check_dns_label(self.namespace, "namespace"))
        found += problem(
            "service_account", rules.check_dns_label(self.service_account, "service account")
        )
        found += problem(
            "storage_class", rules.check_dns_label(self.storage_class, "storage class")
        )
        disk = RWO_ONLY_STORAGE_CLASSES.get(self.storage_class)
        if self.access_mode == "ReadWriteMany" and disk is not None:
            found += problem(
                "access_mode",
                f"storage class {self.storage_class!r} provisions {disk} volumes, which attach "
                "to one node only: a ReadWriteMany claim of it never binds",
                "use a ReadWriteMany class (GKE Filestore 'standard-rwx', EFS, Azure Files, "
                "NFS), or an object-store artifact_store",
            )
        return found
