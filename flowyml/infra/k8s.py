"""The Kubernetes program: a :class:`~flowyml.stacks.k8s.KubernetesStack` -> namespaced objects.

The stack targets an existing cluster (``kubeconfig`` / ``context`` when declared, else the
ambient configuration); it creates, all inside ``namespace``:

- ``namespace``: the ``Namespace`` itself;
- ``runner``: the ``ServiceAccount`` steps run as;
- ``runner-role`` / ``runner-binding``: a ``Role`` allowing Jobs (``batch``) and Pods (with
  their logs) and nothing else, bound to that service account by a ``RoleBinding`` (never a
  ``ClusterRole``: the grant stops at the namespace);
- ``artifacts``: a ``PersistentVolumeClaim`` of ``volume_size`` with ``storage_class`` and
  ``access_mode``, when a store lives on it (an object-store artifact store and a server
  metadata store need no volume). A ``ReadWriteOnce`` claim is declared with a warning: pods
  of steps on other nodes cannot mount it (see ``KubernetesStack``).

Exports: ``namespace``, ``service_account``, ``executor`` (``kubernetes``) and
``artifact_uri`` in the form ``pvc://<namespace>/<claim name>``: the artifact store is that
claim, which each step's pod mounts at the stack's ``mount_path`` (artifacts under
``<mount_path>/artifacts``, the SQLite metadata at ``<mount_path>/metadata.db``, as the
declaration's derived stores say).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowyml.core import outputs as keys
from flowyml.infra.common import export_outputs

if TYPE_CHECKING:
    import pulumi

ARTIFACT_CLAIM = "flowyml-artifacts"
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "flowyml"}

RUNNER_RULES: tuple[dict[str, list[str]], ...] = (
    {
        "api_groups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["create", "get", "list", "watch", "delete", "patch"],
    },
    {
        "api_groups": [""],
        "resources": ["pods"],
        "verbs": ["create", "get", "list", "watch", "delete"],
    },
    {"api_groups": [""], "resources": ["pods/log"], "verbs": ["get", "list"]},
)
"""What the runner's Role allows: Jobs and Pods in its namespace, nothing else."""


def pvc_uri(namespace: str, claim: str = ARTIFACT_CLAIM) -> str:
    """The artifact URI of a claim: ``pvc://<namespace>/<claim>``."""
    return f"pvc://{namespace}/{claim}"


def program(stack: Any) -> Callable[[], None]:
    """The Pulumi program for a Kubernetes stack.

    Args:
        stack: A ``KubernetesStack`` declaration (already checked by ``check_supported``).

    Returns:
        A zero-argument function declaring the resources and exports.
    """

    def run() -> None:
        _declare(stack)

    return run


def _provider_opts(stack: Any) -> pulumi.ResourceOptions:
    import pulumi

    kubeconfig = getattr(stack, "kubeconfig", None)
    context = getattr(stack, "context", None)
    if not kubeconfig and not context:
        return pulumi.ResourceOptions()
    import pulumi_kubernetes as kubernetes

    provider = kubernetes.Provider(
        "cluster",
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        context=context,
    )
    return pulumi.ResourceOptions(provider=provider)


def _declare(stack: Any) -> None:
    import pulumi
    import pulumi_kubernetes.core.v1 as core
    import pulumi_kubernetes.meta.v1 as meta
    import pulumi_kubernetes.rbac.v1 as rbac

    name: str = stack.namespace
    account_name: str = stack.service_account
    base = _provider_opts(stack)

    def in_namespace(object_name: str) -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=object_name, namespace=name, labels=MANAGED_LABELS)

    namespace = core.Namespace(
        "namespace",
        metadata=meta.ObjectMetaArgs(name=name, labels=MANAGED_LABELS),
        opts=base,
    )
    after_namespace = pulumi.ResourceOptions.merge(
        base, pulumi.ResourceOptions(depends_on=[namespace])
    )
    account = core.ServiceAccount(
        "runner",
        metadata=in_namespace(account_name),
        automount_service_account_token=True,
        opts=after_namespace,
    )
    role = rbac.Role(
        "runner-role",
        metadata=in_namespace(f"{account_name}-jobs"),
        rules=[rbac.PolicyRuleArgs(**rule) for rule in RUNNER_RULES],
        opts=after_namespace,
    )
    rbac.RoleBinding(
        "runner-binding",
        metadata=in_namespace(f"{account_name}-jobs"),
        role_ref=rbac.RoleRefArgs(
            api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
        ),
        subjects=[
            rbac.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=name)
        ],
        opts=after_namespace,
    )
    artifact_uri = None
    if stack.uses_volume:
        if stack.access_mode == "ReadWriteOnce":
            from flowyml.stacks.k8s import SHARED_VOLUME_WARNING

            pulumi.log.warn(SHARED_VOLUME_WARNING)
        claim = core.PersistentVolumeClaim(
            "artifacts",
            metadata=meta.ObjectMetaArgs(
                name=ARTIFACT_CLAIM,
                namespace=name,
                labels=MANAGED_LABELS,
                # A WaitForFirstConsumer class binds only when a pod mounts the claim: don't block.
                annotations={"pulumi.com/skipAwait": "true"},
            ),
            spec=core.PersistentVolumeClaimSpecArgs(
                access_modes=[stack.access_mode],
                storage_class_name=stack.storage_class,
                resources=core.VolumeResourceRequirementsArgs(
                    requests={"storage": stack.volume_size}
                ),
            ),
            opts=after_namespace,
        )
        artifact_uri = claim.metadata.name.apply(lambda claim: pvc_uri(name, claim))

    export_outputs(
        {
            keys.NAMESPACE: name,
            keys.SERVICE_ACCOUNT: account_name,
            keys.EXECUTOR: "kubernetes",
            keys.ARTIFACT_URI: artifact_uri,
        }
    )
