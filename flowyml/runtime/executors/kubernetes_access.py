"""Where a Kubernetes stack's steps go: the cluster's API client, namespace, service account.

Cluster access, in this order:

1. A ``KubernetesStack``'s own ``kubeconfig`` / ``context`` (``None``: the default lookup,
   ``$KUBECONFIG`` or ``~/.kube/config``, else the in-cluster service account).
2. A GCP or AWS stack's recorded outputs: the cluster endpoint and CA from the ``kubeconfig``
   output ``stack up`` recorded, with a bearer token from Application Default Credentials
   (google-auth, GKE) or an EKS token presigned with boto3's STS client (what
   ``aws eks get-token`` does), so neither ``gke-gcloud-auth-plugin`` nor the AWS CLI is needed.

Nothing here prints a kubeconfig or a token; both stay in memory.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from typing import Any

from flowyml.core.outputs import (
    ARTIFACT_URI,
    KUBECONFIG,
    KUBERNETES_SERVICE_ACCOUNT,
    NAMESPACE,
    REGION,
    SERVICE_ACCOUNT,
)
from flowyml.runtime.errors import BindingError
from flowyml.runtime.executors.kubernetes_manifest import Provider, VolumeMount

__all__ = ["ClusterTarget", "api_client", "cluster_target", "eks_token"]

_PROVIDERS: dict[str, Provider] = {"gcp": "gke", "aws": "eks"}
EKS_TOKEN_PREFIX = "k8s-aws-v1."


@dataclass(frozen=True)
class ClusterTarget:
    """Where and as whom a stack's step pods run.

    Attributes:
        namespace: The namespace of the Jobs.
        service_account: The Kubernetes service account of the pods (``None``: the default).
        provider: ``gke`` / ``eks`` (their node labels), ``None`` for any cluster.
        volume: The artifact claim to mount (a ``pvc://`` store), if any.
        identity: The stack gives pods a cloud identity (Workload Identity / IRSA), so no
            credential of this machine is shipped to them.
        node_pools: Declared node pools as ``(name, resources dict)``; ``None``: unknown.
    """

    namespace: str
    service_account: str | None
    provider: Provider | None
    volume: VolumeMount | None
    identity: bool
    node_pools: tuple[tuple[str, dict[str, Any]], ...] | None


def _pools(stack: Any) -> tuple[tuple[str, dict[str, Any]], ...] | None:
    cluster = getattr(stack, "cluster", None)
    if cluster is None:
        return None
    pools = getattr(cluster, "node_pools", None) or getattr(cluster, "node_groups", None) or []
    return tuple(
        (str(p.name), p.resources.model_dump(mode="json", exclude_none=True)) for p in pools
    )


def cluster_target(bound: Any) -> ClusterTarget:
    """The namespace, service account, provider and volume of ``bound``'s step pods."""
    stack = bound.declaration
    outputs = bound.outputs
    declared = bound.executor
    stack_type = str(getattr(stack, "stack_type", "") or "")
    recorded = outputs.get if outputs is not None else (lambda _key, default=None: default)
    namespace = str(recorded(NAMESPACE) or getattr(declared, "namespace", None) or "flowyml")
    account = recorded(KUBERNETES_SERVICE_ACCOUNT)
    if account is None and stack_type == "kubernetes":
        account = recorded(SERVICE_ACCOUNT)  # the Kubernetes program's account is a KSA
    account = account or getattr(declared, "service_account", None)
    volume = None
    artifact_uri = str(recorded(ARTIFACT_URI) or "")
    if artifact_uri.startswith("pvc://"):
        claim = artifact_uri.split("://", 1)[1].split("/", 1)[1].strip("/")
        mount = str(getattr(stack, "mount_path", None) or "/mnt/flowyml")
        volume = VolumeMount(claim=claim, mount_path=mount)
    return ClusterTarget(
        namespace=namespace,
        service_account=str(account) if account else None,
        provider=_PROVIDERS.get(stack_type),
        volume=volume,
        identity=stack_type in _PROVIDERS,
        node_pools=_pools(stack),
    )


def api_client(bound: Any) -> Any:
    """A ``kubernetes.client.ApiClient`` for the stack's cluster (module docstring).

    Raises:
        BindingError: no way to reach the cluster is known.
    """
    from kubernetes import client, config

    stack = bound.declaration
    outputs = bound.outputs
    stack_type = str(getattr(stack, "stack_type", "") or "")
    if stack_type in _PROVIDERS:
        raw = outputs.get(KUBECONFIG) if outputs is not None else None
        if not raw:
            raise BindingError(
                f"stack {bound.name} runs steps on Kubernetes but `stack up` recorded no "
                "cluster for it",
                hint=f"declare a cluster on stack {bound.name} and run `flowyml stack up {bound.name}`",
            )
        return _from_recorded(str(raw), stack_type, outputs.get(REGION))
    path = getattr(stack, "kubeconfig", None)
    context = getattr(stack, "context", None)
    try:
        if path is None and context is None:
            try:
                return config.new_client_from_config()
            except config.ConfigException:
                config.load_incluster_config()
                return client.ApiClient()
        return config.new_client_from_config(config_file=path, context=context)
    except (config.ConfigException, OSError) as exc:
        where = path or "the default kubeconfig"
        raise BindingError(
            f"stack {bound.name}: cannot load the cluster from {where}"
            + (f" (context {context})" if context else "")
            + f": {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
            hint="point the stack's kubeconfig/context at a reachable cluster "
            "(`kubectl --kubeconfig FILE get ns` must work)",
        ) from None


def _from_recorded(kubeconfig: str, stack_type: str, region: str | None) -> Any:
    import yaml
    from kubernetes import client

    data = yaml.safe_load(kubeconfig)
    entry = data["clusters"][0]
    cluster = entry["cluster"]
    configuration = client.Configuration()
    configuration.host = cluster["server"]
    ca = cluster.get("certificate-authority-data")
    if ca:
        # The client wants a file; it holds a public certificate, not a secret.
        handle = tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False)  # noqa: SIM115
        with handle:
            handle.write(base64.b64decode(ca))
        configuration.ssl_ca_cert = handle.name
    token = _gke_token() if stack_type == "gcp" else eks_token(str(entry["name"]), region)
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(configuration)


def _gke_token() -> str:
    import google.auth
    import google.auth.transport.requests

    credentials, _project = google.auth.default(
        scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    credentials.refresh(google.auth.transport.requests.Request())
    return str(credentials.token)


def eks_token(cluster_name: str, region: str | None) -> str:
    """A bearer token for EKS: a presigned STS ``GetCallerIdentity`` naming the cluster.

    What ``aws eks get-token`` prints: ``k8s-aws-v1.`` + the URL-safe base64 of the presigned
    URL, with the ``x-k8s-aws-id`` header (the cluster name) among the signed headers.
    """
    import boto3

    sts = boto3.client(
        "sts",
        region_name=region or "us-east-1",
        endpoint_url=f"https://sts.{region or 'us-east-1'}.amazonaws.com",
    )

    def add_cluster_header(request: Any, **_kwargs: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster_name  # signed: the token names its cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")
    return EKS_TOKEN_PREFIX + encoded
