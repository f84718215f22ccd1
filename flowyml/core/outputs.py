"""Typed outputs of a provisioned stack: what binding turns into runtime adapters.

Secret outputs (database URLs with passwords, kubeconfigs) are named in ``secrets``; their values
are revealed only through :meth:`StackOutputs.reveal` and are masked in every other view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowyml.core.plan import SECRET_MASK

# The output keys every program exports where they apply.
ARTIFACT_URI = "artifact_uri"
METADATA_URL = "metadata_url"
REGISTRY_URI = "registry_uri"
SERVICE_ACCOUNT = "service_account"
EXECUTOR = "executor"
EXECUTOR_ENDPOINT = "executor_endpoint"
CLUSTER_ENDPOINT = "cluster_endpoint"
KUBECONFIG = "kubeconfig"
NAMESPACE = "namespace"
REGION = "region"
PROJECT_ID = "project_id"
KUBERNETES_SERVICE_ACCOUNT = "kubernetes_service_account"
"""The Kubernetes service account step pods run as (in ``namespace``), bound to the cloud
identity ``service_account`` (GKE Workload Identity, EKS IRSA / Pod Identity)."""


@dataclass(frozen=True)
class StackOutputs:
    """Outputs recorded after ``stack up``.

    Attributes:
        stack: The flowyml stack name.
        values: Output name -> value (secrets included, in memory only).
        secrets: Names of the outputs whose values are secret.
        engine: Which engine produced them (``pulumi``, ``local``, ``emulated``...).
    """

    stack: str
    values: Mapping[str, Any] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    engine: str = "pulumi"

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (revealed: for adapters, never for display)."""
        return self.values.get(key, default)

    def reveal(self, key: str) -> Any:
        """The clear value of ``key``; raises ``KeyError`` if absent."""
        return self.values[key]

    def masked(self) -> dict[str, Any]:
        """A copy safe to print or log: secret values replaced with ``[secret]``."""
        return {k: (SECRET_MASK if k in self.secrets else v) for k, v in self.values.items()}

    def __repr__(self) -> str:
        return (
            f"StackOutputs(stack={self.stack!r}, values={self.masked()!r}, engine={self.engine!r})"
        )
