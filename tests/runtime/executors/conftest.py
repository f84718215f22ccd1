"""Fixtures of the Kubernetes and Vertex AI executor tests: kmock's API with the test kubelet
on the real Docker engine, the local registry and base image, a project holding the pipelines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docker_env import (  # noqa: F401  (pytest fixtures)
    base_image,
    docker_client,
    local_registry,
)

from flowyml.core.outputs import (
    ARTIFACT_URI,
    EXECUTOR,
    NAMESPACE,
    REGISTRY_URI,
    SERVICE_ACCOUNT,
    StackOutputs,
)
from flowyml.runtime.binding import clear_cache
from flowyml.runtime.executors import kubernetes as k8s_executor

# flowyml's sources frozen for the session (they go into every image tag), as the image tests do.
from runtime.images.conftest import frozen_flowyml_source  # noqa: F401

from .kubelet import Emulator, Kubelet

HERE = Path(__file__).parent
CLAIM = "flowyml-artifacts"
NAMESPACE_NAME = "flowyml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh project holding ``k8s_pipelines.py``; cwd and ``FLOWYML_PROJECT_DIR`` point at it.

    The umask is 0 while it lives: the driver (root here) and the pods (uid 10001) share the
    claim's directory, as pods of one fsGroup share a volume on a cluster.
    """
    root = tmp_path / "project"
    root.mkdir()
    (root / "flowyml.yaml").write_text("stacks: {}\n", encoding="utf-8")
    (root / "k8s_pipelines.py").write_text(
        (HERE / "k8s_pipelines.py").read_text(), encoding="utf-8"
    )
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(root))
    monkeypatch.chdir(root)
    old = os.umask(0)
    yield root
    os.umask(old)
    clear_cache()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """kmock's Kubernetes API emulator on a free port."""
    pytest.importorskip("kmock", reason="kmock is not installed (pip install 'flowyml[dev]')")
    running = Emulator().start()
    yield running
    running.stop()


@dataclass
class Cluster:
    """A KubernetesStack recorded as provisioned on the emulator, and its kubelet."""

    stack: Any
    kubelet: Kubelet
    emulator: Emulator
    mount: Path

    def jobs(self) -> list[Any]:
        return list(self.kubelet.batch.list_namespaced_job(NAMESPACE_NAME).items)

    def pods(self) -> list[Any]:
        return list(self.kubelet.core.list_namespaced_pod(NAMESPACE_NAME).items)

    def secrets(self) -> list[Any]:
        return list(self.kubelet.core.list_namespaced_secret(NAMESPACE_NAME).items)


@pytest.fixture
def cluster(
    project: Path,
    emulator: Emulator,
    docker_client: Any,  # noqa: F811  (the fixture)
    base_image: str,  # noqa: F811
    local_registry: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cluster]:
    """A KubernetesStack on kmock (outputs recorded as `stack up` would), the test kubelet
    running its pods on Docker, the claim a host directory mounted at the same path."""
    from flowyml.provision.state import save_outputs
    from flowyml.stacks.components import DockerConfig
    from flowyml.stacks.k8s import KubernetesStack

    mount = project / "mnt"
    mount.mkdir()
    mount.chmod(0o777)
    stack = KubernetesStack(
        name="kube",
        namespace=NAMESPACE_NAME,
        kubeconfig=str(emulator.kubeconfig(project)),
        mount_path=str(mount),
        docker=DockerConfig(base_image=base_image),
    )
    save_outputs(
        StackOutputs(
            stack="kube",
            values={
                NAMESPACE: NAMESPACE_NAME,
                SERVICE_ACCOUNT: "flowyml-runner",
                EXECUTOR: "kubernetes",
                ARTIFACT_URI: f"pvc://{NAMESPACE_NAME}/{CLAIM}",
                REGISTRY_URI: local_registry,
            },
            engine="emulated",
        )
    )
    monkeypatch.setattr(k8s_executor, "POLL", 0.05)
    monkeypatch.setattr(k8s_executor, "PENDING_TIMEOUT", 3.0)
    kubelet = Kubelet(emulator, docker_client, claims={CLAIM: mount}).start()
    yield Cluster(stack, kubelet, emulator, mount)
    kubelet.stop()
    assert kubelet.errors == [], kubelet.errors
