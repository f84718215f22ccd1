"""Helpers every provider program shares: names, quantities, URLs, labels and exports.

Nothing here imports Pulumi at module level; :func:`export_outputs` imports it when called,
inside a running program. Names derived here are deterministic functions of the declaration,
so previews of the same stack are stable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from flowyml.core import outputs as keys

GIB = 1024**3

_NOT_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def resource_prefix(stack_name: str) -> str:
    """A DNS-label-safe prefix for the physical names of a stack's resources.

    Args:
        stack_name: The flowyml stack name, e.g. ``"aws-prod"`` or ``"My Stack"``.

    Returns:
        Lowercase letters, digits and hyphens, starting with a letter, at most 20 characters
        (room for a provider's random suffix within the shortest name limits).
    """
    name = _NOT_NAME_CHARS.sub("-", stack_name.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"s-{name}".rstrip("-")
    return name[:20].rstrip("-")


def labels(stack_name: str) -> dict[str, str]:
    """Labels (GCP) / tags (AWS) marking a resource as managed by flowyml for ``stack_name``."""
    return {"managed-by": "flowyml", "flowyml-stack": resource_prefix(stack_name)}


def to_gib(size_bytes: int | None, default: int) -> int:
    """Bytes rounded up to whole GiB, or ``default`` when the size is not declared."""
    if size_bytes is None:
        return default
    return max(1, math.ceil(size_bytes / GIB))


def postgres_url(
    *,
    user: str,
    password: str,
    database: str,
    host: str = "",
    port: int | None = None,
    query: Mapping[str, str] | None = None,
) -> str:
    """A SQLAlchemy URL for PostgreSQL through psycopg 3, with user and password URL-quoted.

    Args:
        user: Database user.
        password: Its password (the URL is therefore a secret).
        database: Database name.
        host: Host name; empty for a Unix socket given in ``query`` as ``host=/path``.
        port: TCP port, omitted when ``None``.
        query: Extra query parameters, e.g. ``{"host": "/cloudsql/p:r:i"}``.

    Returns:
        ``postgresql+psycopg://user:password@host[:port]/database[?k=v...]``.
    """
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if port is not None:
        netloc += f":{port}"
    url = f"postgresql+psycopg://{netloc}/{quote(database, safe='')}"
    if query:
        url += "?" + "&".join(f"{k}={quote(v, safe='/:')}" for k, v in query.items())
    return url


def component_kind(component: Any) -> str:
    """The ``kind`` discriminator of a stack component, lowercased ('' when absent)."""
    return str(getattr(component, "kind", "") or "").lower()


def executor_kind(stack: Any, *, default: str) -> str:
    """The executor kind to export: ``vertex``, ``kubernetes``, or the declared executor's kind.

    Args:
        stack: The stack declaration.
        default: What to export when the declared executor does not decide (e.g. it is local).
    """
    kind = component_kind(getattr(stack, "executor", None))
    if "vertex" in kind:
        return "vertex"
    if "kube" in kind:
        return "kubernetes"
    return default


DEFAULT_RUNNER_NAMESPACE = "flowyml"
DEFAULT_RUNNER_KSA = "flowyml-runner"


def runner_workload(stack: Any) -> tuple[str, str]:
    """(namespace, Kubernetes service account) the runner's pods use on a stack's cluster.

    From the declared Kubernetes executor when there is one, else ``flowyml/flowyml-runner``.
    """
    executor = getattr(stack, "executor", None)
    if component_kind(executor) != "kubernetes":
        return DEFAULT_RUNNER_NAMESPACE, DEFAULT_RUNNER_KSA
    namespace = getattr(executor, "namespace", None) or DEFAULT_RUNNER_NAMESPACE
    return str(namespace), str(getattr(executor, "service_account", None) or DEFAULT_RUNNER_KSA)


def declared_password(stack: Any) -> str | None:
    """The metadata store's declared password, revealed now (``None`` when none is declared).

    A ``${VAR}`` reference is resolved from the environment here, inside the program, so the
    value only ever lives in the engine's encrypted state.

    Raises:
        SecretError: The reference names an unset variable (the program then refuses to run).
    """
    from flowyml.stacks.secret_refs import reveal

    secret = getattr(getattr(stack, "metadata_store", None), "password", None)
    return reveal(secret, "metadata_store.password") if secret is not None else None


def metadata_names(stack: Any, *, default_database: str = "flowyml") -> tuple[str, str]:
    """The database and user names the metadata store declares (``flowyml`` for both by default)."""
    store = getattr(stack, "metadata_store", None)
    database = getattr(store, "database", None) or default_database
    user = getattr(store, "user", None) or "flowyml"
    return str(database), str(user)


def fixed_name() -> Any:
    """Options for an explicitly named resource: the engine must delete the old one before it
    creates its replacement (two cannot hold one name), as Pulumi does for bridged providers'
    named resources only when told."""
    import pulumi

    return pulumi.ResourceOptions(delete_before_replace=True)


def export_outputs(values: Mapping[str, Any], secrets: Iterable[str] = ()) -> None:
    """Export ``values`` from the running Pulumi program, marking ``secrets`` as secret.

    Keys must be the names in :mod:`flowyml.core.outputs`; ``None`` values are skipped so a
    stack exports only the keys that apply to it.

    Raises:
        ValueError: If a key is not one of the contract's output names.
    """
    import pulumi

    secret_keys = set(secrets)
    for key, value in values.items():
        if key not in OUTPUT_KEYS:
            raise ValueError(f"{key!r} is not an output key of flowyml.core.outputs")
        if value is None:
            continue
        pulumi.export(key, pulumi.Output.secret(value) if key in secret_keys else value)


OUTPUT_KEYS: frozenset[str] = frozenset(
    {
        keys.ARTIFACT_URI,
        keys.METADATA_URL,
        keys.REGISTRY_URI,
        keys.SERVICE_ACCOUNT,
        keys.EXECUTOR,
        keys.EXECUTOR_ENDPOINT,
        keys.CLUSTER_ENDPOINT,
        keys.KUBECONFIG,
        keys.NAMESPACE,
        keys.REGION,
        keys.PROJECT_ID,
        keys.KUBERNETES_SERVICE_ACCOUNT,
    }
)
"""Every output key the contract names (flowyml/core/outputs.py)."""

SECRET_OUTPUTS: frozenset[str] = frozenset({keys.METADATA_URL, keys.KUBECONFIG})
"""Outputs that are always exported as secrets."""
