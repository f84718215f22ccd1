"""Binding: a stack declaration (plus, for cloud stacks, its recorded outputs) -> live adapters.

Rules:
* The artifact URI and the metadata URL come from the outputs when they hold them (cloud stacks,
  or a local stack brought up by the local engine), else from the declared components
  (``artifact_store.uri``, ``metadata_store.sqlalchemy_url(reveal=True)``).
* A stack that ``needs_provisioning`` and is given no outputs is bound from the outputs that
  ``flowyml stack up`` recorded for it; with none recorded it raises ``StackNotProvisionedError``.
* A ``pvc://<namespace>/<claim>`` artifact URI (the Kubernetes program's) names a volume claim
  that the stack's pods mount at ``mount_path``: it binds to ``file://<mount_path>/artifacts``
  where that path exists (inside such a pod), and is a one-line ``BindingError`` elsewhere.
* Cloud SQL URLs name the Cloud SQL Auth Proxy's socket directory ``/cloudsql`` (as on Cloud Run
  and in the GKE sidecar); ``$FLOWYML_CLOUDSQL_SOCKET_DIR`` points them at another directory
  (a proxy started with ``--unix-socket DIR``).
* Adapters are cached per process, keyed by URI / URL: binding the same stack again (each
  ``pipeline.run``) reuses the connection pool and skips the migration check.
* Before a run, :func:`require_runnable` checks that the executor (and orchestrator) kind has a
  runtime (:mod:`flowyml.stacks.flavors`): a kind flowyml cannot run is a one-line
  ``BindingError`` before any step runs, never a silent run on this machine's threads. Binding
  itself does not refuse them: reading a stack's runs needs only its stores.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowyml.core.errors import FlowymlError
from flowyml.core.outputs import ARTIFACT_URI, METADATA_URL, REGISTRY_URI, StackOutputs
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.errors import BindingError, StackNotProvisionedError
from flowyml.runtime.executors import load_runtime, resolve_executor_flavor
from flowyml.runtime.storage_options import storage_options_for
from flowyml.stacks.flavors import Flavor, executor_flavor, flavor

if TYPE_CHECKING:
    from flowyml.pipeline.executors import StepExecutor
    from flowyml.runtime.metadata import SqlMetadataStore
    from flowyml.stacks.base import Stack

CLOUDSQL_SOCKET_DIR_ENV = "FLOWYML_CLOUDSQL_SOCKET_DIR"
"""Environment variable naming the Cloud SQL Auth Proxy's socket directory (default /cloudsql)."""
CLOUDSQL_SOCKET_DIR = "/cloudsql"
"""The socket directory the GCP program's metadata URL names (Cloud Run, the GKE sidecar)."""
DEFAULT_MOUNT_PATH = "/mnt/flowyml"

_lock = threading.Lock()
_artifact_stores: dict[tuple[str, str], FsspecArtifactStore] = {}
_metadata_stores: dict[str, SqlMetadataStore] = {}


@dataclass(frozen=True)
class BoundStack:
    """A stack bound to live adapters (implements the runner's ``RuntimeStack``).

    Attributes:
        name: The stack name.
        artifact_store: Where step outputs are saved.
        metadata_store: Where runs, steps and lineage are recorded.
        registry_uri: Container registry, when the stack has one.
        max_workers: The declared executor's worker limit (``None``: the runner decides).
        use_processes: The declared executor asks for one process per attempt.
        executor_kind: ``kind`` of the declared executor (``local``, ``docker``...).
        executor_flavor: Its flavor (runtime module, price rule, providers).
        executor: The executor declaration itself.
        declaration: The whole stack declaration (Docker settings, resources...).
        outputs: The provisioned outputs it was bound from, if any.
        submission: What remote executors ship (image, code package), prepared per run by
            the run facade; ``None`` until then.
    """

    name: str
    artifact_store: FsspecArtifactStore
    metadata_store: SqlMetadataStore
    registry_uri: str | None = None
    max_workers: int | None = None
    use_processes: bool = False
    executor_kind: str = "local"
    executor_flavor: Flavor | None = None
    executor: Any = None
    declaration: Any = field(default=None, compare=False, repr=False)
    outputs: StackOutputs | None = field(default=None, compare=False, repr=False)
    submission: Any = field(default=None, compare=False, repr=False)

    @property
    def remote(self) -> bool:
        """Its steps run away from this process (they need an image and a code package)."""
        return bool(self.executor_flavor is not None and self.executor_flavor.remote)

    def with_submission(self, submission: Any) -> BoundStack:
        """This binding with a run's prepared submission (image, code package)."""
        return replace(self, submission=submission)

    def step_executor(self, max_workers: int, use_processes: bool = False) -> StepExecutor:
        """The strategy that runs this stack's steps for one run (see the runner's port)."""
        found = resolve_executor_flavor(self.name, self.executor)
        strategy: StepExecutor = load_runtime(found).create(self, max_workers, use_processes)
        return strategy


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0] if "://" in uri else "file"


def _declared(stack: Any, field: str) -> Any:
    return getattr(stack, field, None)


def _artifact_uri(stack: Any, outputs: StackOutputs | None) -> str:
    if outputs is not None and outputs.get(ARTIFACT_URI):
        return str(outputs.get(ARTIFACT_URI))
    declaration = _declared(stack, "artifact_store")
    uri = getattr(declaration, "uri", None)
    if not uri:
        raise BindingError(
            f"stack {stack.name} has no artifact store URI",
            hint=f"declare an artifact_store on stack {stack.name} or run `flowyml stack up {stack.name}`",
        )
    return str(uri)


def pvc_artifact_uri(uri: str, stack: Any) -> str:
    """``pvc://<namespace>/<claim>`` -> ``file://<mount_path>/artifacts`` inside a pod.

    Args:
        uri: The artifact URI the Kubernetes program exported.
        stack: The stack declaration (its ``mount_path``, ``/mnt/flowyml`` by default).

    Raises:
        BindingError: The mount path does not exist here: this process is not in a pod that
            mounts the claim.
    """
    parts = urlsplit(uri)
    namespace, claim = parts.netloc, parts.path.strip("/")
    mount = str(getattr(stack, "mount_path", None) or DEFAULT_MOUNT_PATH)
    if not Path(mount).is_dir():
        raise BindingError(
            f"stack {stack.name} keeps artifacts on volume claim {claim} (namespace {namespace}), "
            f"mounted at {mount} in the stack's pods, but {mount} does not exist here "
            f"(host {socket.gethostname()}, not such a pod)",
            hint="run the pipeline in a pod of that cluster that mounts the claim at "
            f"{mount} (executor: kubernetes), or bind a stack whose store is reachable from here",
        )
    return (Path(mount) / "artifacts").as_uri()


def cloudsql_socket_url(url: str, socket_dir: str | None = None) -> str:
    """Point a Cloud SQL URL's ``host=/cloudsql/<connection>`` at another socket directory.

    Args:
        url: A SQLAlchemy URL (a secret: never logged here).
        socket_dir: The proxy's socket directory; default ``$FLOWYML_CLOUDSQL_SOCKET_DIR``.
            Unset (or ``/cloudsql``) leaves the URL as it is.

    Returns:
        The URL with the socket directory replaced; other URLs unchanged.
    """
    directory = socket_dir if socket_dir is not None else os.environ.get(CLOUDSQL_SOCKET_DIR_ENV)
    if not directory:
        return url
    directory = directory.rstrip("/") or "/"
    if directory == CLOUDSQL_SOCKET_DIR:
        return url
    import sqlalchemy

    parsed = sqlalchemy.make_url(url)
    host = parsed.query.get("host")
    if not isinstance(host, str) or not host.startswith(CLOUDSQL_SOCKET_DIR + "/"):
        return url
    connection = host[len(CLOUDSQL_SOCKET_DIR) + 1 :]
    moved = parsed.update_query_dict({"host": f"{directory}/{connection}"})
    return moved.render_as_string(hide_password=False)


def _metadata_url(stack: Any, outputs: StackOutputs | None) -> str:
    if outputs is not None and outputs.get(METADATA_URL):
        return cloudsql_socket_url(str(outputs.reveal(METADATA_URL)))
    declaration = _declared(stack, "metadata_store")
    if declaration is None:
        raise BindingError(f"stack {stack.name} has no metadata store")
    try:
        return str(declaration.sqlalchemy_url(reveal=True))
    except FlowymlError as exc:
        raise BindingError(
            f"stack {stack.name}: {exc.message}",
            hint=exc.hint or f"run `flowyml stack up {stack.name}`",
        ) from exc


def artifact_store_for(uri: str, declaration: Any = None) -> FsspecArtifactStore:
    """The process-wide artifact store for ``uri`` (created on first use)."""
    options = storage_options_for(uri, declaration)
    # Options may hold secrets: key on their repr only in memory, never log it.
    key = (uri, repr(sorted(options.items())))
    with _lock:
        store = _artifact_stores.get(key)
        if store is None:
            store = FsspecArtifactStore(uri, options)
            _artifact_stores[key] = store
        return store


def metadata_store_for(url: str) -> SqlMetadataStore:
    """The process-wide metadata store for ``url`` (opened and migrated on first use)."""
    # SQLAlchemy is imported with the first store, not with binding: compiling a pipeline or
    # reading an artifact binds artifact stores only.
    from flowyml.runtime.metadata import SqlMetadataStore

    with _lock:
        store = _metadata_stores.get(url)
        if store is None:
            store = SqlMetadataStore(url)
            _metadata_stores[url] = store
        return store


def clear_cache() -> None:
    """Forget cached adapters and close their connection pools (tests, after ``destroy``)."""
    with _lock:
        for store in _metadata_stores.values():
            store.close()
        _metadata_stores.clear()
        _artifact_stores.clear()


def recorded_outputs(name: str) -> StackOutputs | None:
    """The outputs ``flowyml stack up`` recorded for stack ``name`` in this project, if any."""
    # Imported here: recorded state belongs to provisioning, which binding needs only for cloud
    # stacks; the runner path for local stacks never loads it.
    from flowyml.provision.state import load_outputs

    return load_outputs(name)


def bind_stack(stack: Stack, outputs: StackOutputs | None = None) -> BoundStack:
    """Bind ``stack`` (and its recorded ``outputs``) to live adapters.

    Args:
        stack: A ``flowyml.stacks`` declaration (``Stack`` or one of its types).
        outputs: Outputs of the provisioned stack; for cloud stacks, the ones recorded by
            ``flowyml stack up`` are loaded when none are given.

    Returns:
        A :class:`BoundStack` the runner can use.

    Raises:
        StackNotProvisionedError: a cloud stack without outputs.
        BindingError: the stack lacks what binding needs.
        ArtifactError / MetadataError: the store cannot be opened.
    """
    executor = _declared(stack, "executor")
    executor_found = executor_flavor(str(getattr(executor, "kind", None) or "local"))
    if getattr(stack, "needs_provisioning", False) and outputs is None:
        outputs = recorded_outputs(stack.name)
    if getattr(stack, "needs_provisioning", False) and outputs is None:
        raise StackNotProvisionedError(
            f"stack {stack.name} has not been provisioned",
            hint=f"run `flowyml stack up {stack.name}`",
        )
    uri = _artifact_uri(stack, outputs)
    if _scheme(uri) == "pvc":
        uri = pvc_artifact_uri(uri, stack)
    declaration = _declared(stack, "artifact_store")
    if _scheme(getattr(declaration, "uri", "")) != _scheme(uri):
        # Outputs name another kind of store: the declaration's endpoint and keys do not apply.
        declaration = None
    artifact_store = artifact_store_for(uri, declaration)
    metadata_store = metadata_store_for(_metadata_url(stack, outputs))
    registry = outputs.get(REGISTRY_URI) if outputs is not None else None
    if registry is None:
        registry = getattr(_declared(stack, "container_registry"), "uri", None)
    return BoundStack(
        name=stack.name,
        artifact_store=artifact_store,
        metadata_store=metadata_store,
        registry_uri=registry,
        max_workers=getattr(executor, "max_workers", None),
        use_processes=bool(getattr(executor, "use_processes", False)),
        executor_kind=str(getattr(executor, "kind", None) or "local"),
        executor_flavor=executor_found,
        executor=executor,
        declaration=stack,
        outputs=outputs,
    )


def require_runnable(bound: BoundStack) -> None:
    """Refuse, before a run starts, a stack whose executor or orchestrator flowyml cannot run.

    Binding alone does not check this (reading a stack's runs needs only its stores).

    Raises:
        BindingError: one line naming the kind and what to declare instead.
    """
    resolve_executor_flavor(bound.name, bound.executor)
    _check_orchestrator(bound.declaration)


def _check_orchestrator(stack: Any) -> None:
    """Refuse an orchestrator flowyml cannot hand the pipeline to (never ignore it)."""
    declared = _declared(stack, "orchestrator")
    kind = str(getattr(declared, "kind", None) or "none")
    if kind == "none":
        return
    found = flavor("orchestrator", kind)
    if found is None or found.runtime is None:
        label = found.label if found is not None else kind
        raise BindingError(
            f"stack {stack.name}: orchestrator {kind!r} ({label}) has no runtime in this "
            "flowyml, and running the pipeline without it would ignore the declaration; "
            "nothing was run",
            hint=f"remove the orchestrator from stack {stack.name} to run steps on its executor",
        )
