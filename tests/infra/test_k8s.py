"""The Kubernetes program under Pulumi mocks; its manifests checked by ``kubernetes-validate``.

The manifests are the inputs the program registers (what the Kubernetes provider would apply),
validated strictly (unknown fields are errors) against the official schemas of the newest
Kubernetes version the validator ships.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from flowyml.core import outputs as keys
from flowyml.infra import UnsupportedFeatureError, program_for
from flowyml.stacks.components import CloudSQLMetadataStore
from flowyml.stacks.k8s import KubernetesStack

from .builders import Evaluate, k8s_stack

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

KINDS = ("Namespace", "ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim")


def manifests(evaluation: Any) -> dict[str, dict[str, Any]]:
    """Kind -> manifest, for every Kubernetes object the program declared."""
    found = {}
    for resource in evaluation.resources:
        if resource.type.startswith("kubernetes:") and resource.custom:
            found[resource.inputs["kind"]] = dict(resource.inputs)
    return found


def test_declares_the_namespaced_objects_and_validates_them(evaluate: Evaluate) -> None:
    objects = manifests(evaluate(k8s_stack()))

    assert sorted(objects) == sorted(KINDS)
    version = kubernetes_validate.latest_version()
    for kind, manifest in objects.items():
        kubernetes_validate.validate(manifest, version, strict=True)  # raises if invalid
        if kind != "Namespace":
            assert manifest["metadata"]["namespace"] == "flowyml", kind


def test_validator_rejects_a_broken_manifest(evaluate: Evaluate) -> None:
    # The check above would be empty if the validator accepted anything: prove it does not.
    claim = manifests(evaluate(k8s_stack()))["PersistentVolumeClaim"]
    claim["spec"]["accessModes"] = "ReadWriteOnce"  # must be a list

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(claim, kubernetes_validate.latest_version(), strict=True)


def test_role_allows_jobs_and_pods_only_and_is_bound_to_the_runner(evaluate: Evaluate) -> None:
    objects = manifests(evaluate(k8s_stack(namespace="ml-team", service_account="runner")))

    rules = objects["Role"]["rules"]
    granted = {(group, res) for r in rules for group in r["apiGroups"] for res in r["resources"]}
    assert granted == {("batch", "jobs"), ("", "pods"), ("", "pods/log")}
    assert all("*" not in r["verbs"] for r in rules)
    binding = objects["RoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": objects["Role"]["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "runner", "namespace": "ml-team"}
    ]
    assert objects["ServiceAccount"]["metadata"]["name"] == "runner"
    assert all(o["metadata"].get("namespace", "ml-team") == "ml-team" for o in objects.values())


def test_claim_uses_the_declared_storage_class_and_size(evaluate: Evaluate) -> None:
    evaluation = evaluate(k8s_stack(storage_class="premium-rwo", volume_size="50Gi"))

    spec = manifests(evaluation)["PersistentVolumeClaim"]["spec"]
    assert spec["storageClassName"] == "premium-rwo"
    assert spec["resources"]["requests"]["storage"] == "50Gi"
    assert evaluation.outputs == {
        keys.NAMESPACE: "flowyml",
        keys.SERVICE_ACCOUNT: "flowyml-runner",
        keys.EXECUTOR: "kubernetes",
        keys.ARTIFACT_URI: "pvc://flowyml/flowyml-artifacts",
    }
    assert evaluation.secret_outputs == frozenset()


def test_declared_kubeconfig_and_context_select_an_explicit_provider(evaluate: Evaluate) -> None:
    evaluation = evaluate(k8s_stack(kubeconfig="/etc/kube/config", context="prod"))

    provider = evaluation.get("cluster", "pulumi:providers:kubernetes")
    assert (provider.inputs["kubeconfig"], provider.inputs["context"]) == (
        "/etc/kube/config",
        "prod",
    )
    namespace = evaluation.get("namespace", "kubernetes:core/v1:Namespace")
    assert namespace.provider is not None and namespace.provider.startswith(provider.urn)


def test_default_kubeconfig_uses_the_ambient_provider(evaluate: Evaluate) -> None:
    evaluation = evaluate(k8s_stack())

    assert not [r for r in evaluation.resources if r.type == "pulumi:providers:kubernetes"]


def test_cloud_sql_metadata_on_kubernetes_fails_early() -> None:
    stack = k8s_stack(metadata_store=CloudSQLMetadataStore())

    with pytest.raises(UnsupportedFeatureError) as caught:
        program_for(stack)
    assert (caught.value.provider, caught.value.path) == ("kubernetes", "metadata_store")
    assert "To fix: declare a PostgreSQLMetadataStore" in str(caught.value)


PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def test_a_read_write_once_claim_is_declared_with_a_warning(evaluate: Evaluate) -> None:
    evaluation = evaluate(KubernetesStack(name="k8s-cluster"))
    claim = evaluation.get("artifacts", PVC).inputs
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert any("ReadWriteOnce" in d and "To fix:" in d for d in evaluation.diagnostics)


def test_a_read_write_many_claim_has_no_warning(evaluate: Evaluate) -> None:
    stack = KubernetesStack(
        name="k8s-cluster", storage_class="standard-rwx", access_mode="ReadWriteMany"
    )
    evaluation = evaluate(stack)
    assert evaluation.get("artifacts", PVC).inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert not any("ReadWriteOnce" in d for d in evaluation.diagnostics)


def test_object_store_and_server_metadata_need_no_volume(evaluate: Evaluate) -> None:
    from flowyml.stacks.components import PostgreSQLMetadataStore, S3ArtifactStore

    stack = KubernetesStack(
        name="k8s-cluster",
        artifact_store=S3ArtifactStore(bucket="my-artifacts"),
        metadata_store=PostgreSQLMetadataStore(host="db", database="d", user="u"),
    )
    evaluation = evaluate(stack)
    assert evaluation.by_type(PVC) == []
    assert keys.ARTIFACT_URI not in evaluation.outputs
    assert not any("ReadWriteOnce" in d for d in evaluation.diagnostics)


def test_read_write_many_on_a_disk_class_is_refused() -> None:
    stack = KubernetesStack(name="k", storage_class="standard-rwo", access_mode="ReadWriteMany")
    problems = stack.validate(raise_on_error=False)
    assert [p.path for p in problems] == ["access_mode"]
    assert "never binds" in problems[0].message
