"""The image a stack's steps need, from the stack itself: its executor, registry and store.

What ``flowyml build`` calls for each stack a pipeline runs on. A stack whose executor is
``local`` runs steps in this process: it needs no image, and saying so is the result. For the
others the engine that builds is the one that runs the steps (the local engine, or a
``RemoteExecutor``'s), and the registry is the one ``stack up`` recorded, else the declared
``container_registry``. Steps on Kubernetes or Vertex AI pull from a registry, so such a stack
without one is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flowyml.runtime.images.build import ImageRef, ensure_image
from flowyml.runtime.images.errors import ImageError, import_docker
from flowyml.runtime.images.plan import ImagePlan, plan_image

__all__ = ["StackImage", "engine_client", "image_extras", "stack_image", "stack_registry"]

# Engines that run the steps of these executor kinds themselves (the image stays there).
_ENGINE_KINDS = {"docker", "remote"}

# flowyml extras a step container needs to reach the artifact store (not the Pulumi SDKs).
_STORE_EXTRAS = {
    "gs": ("gcs",),
    "gcs": ("gcs",),
    "s3": ("s3",),
    "az": ("azure",),
    "abfs": ("azure",),
}


@dataclass(frozen=True)
class StackImage:
    """What one stack needs and what was done about it.

    Attributes:
        stack: The stack's name.
        executor: The executor kind.
        plan: The planned image (``None``: the stack needs none).
        image: The image after ``ensure_image`` (``None`` for a dry run or no image).
        reason: Why nothing was built, when the stack needs no image.
    """

    stack: str
    executor: str
    plan: ImagePlan | None = None
    image: ImageRef | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        out: dict[str, object] = {"stack": self.stack, "executor": self.executor}
        if self.reason:
            out["reason"] = self.reason
        if self.plan is not None:
            out["plan"] = self.plan.to_dict()
        if self.image is not None:
            out |= {
                "reference": self.image.reference,
                "built": self.image.built,
                "pushed": self.image.pushed,
                "digest": self.image.digest,
            }
        return out


def image_extras(artifact_uri: str | None) -> tuple[str, ...]:
    """The flowyml extras a step container needs for an artifact store at ``artifact_uri``."""
    return _STORE_EXTRAS.get(urlsplit(artifact_uri or "").scheme, ())


def _executor_kind(stack: Any) -> str:
    return str(getattr(getattr(stack, "executor", None), "kind", "local"))


def _outputs(stack: Any) -> Any:
    if not getattr(stack, "needs_provisioning", False):
        return None
    from flowyml.runtime.binding import recorded_outputs

    return recorded_outputs(stack.name)


def stack_registry(stack: Any, outputs: Any = None) -> str | None:
    """The registry a stack's images go to: recorded by ``stack up``, else declared."""
    from flowyml.core.outputs import REGISTRY_URI

    recorded = outputs.get(REGISTRY_URI) if outputs is not None else None
    return recorded or getattr(getattr(stack, "container_registry", None), "uri", None)


def _artifact_uri(stack: Any, outputs: Any) -> str | None:
    from flowyml.core.outputs import ARTIFACT_URI

    recorded = outputs.get(ARTIFACT_URI) if outputs is not None else None
    return recorded or getattr(getattr(stack, "artifact_store", None), "uri", None)


def engine_client(stack: Any) -> Any:
    """A docker client for the engine that builds (and, for docker/remote, runs) the steps.

    Raises:
        ImageError: no engine answers there.
    """
    docker = import_docker()
    executor = getattr(stack, "executor", None)
    endpoint = getattr(executor, "endpoint", None) if _executor_kind(stack) == "remote" else None
    environment = dict(os.environ)
    if endpoint:
        environment["DOCKER_HOST"] = endpoint
    where = endpoint or environment.get("DOCKER_HOST") or "the local Docker engine"
    try:
        client = docker.from_env(environment=environment, timeout=300)
        client.ping()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImageError(
            f"no Docker engine answers at {where}: {first}",
            hint=(
                f"check the executor's endpoint, that `DOCKER_HOST={endpoint} docker info` "
                "works from here (SSH keys in ~/.ssh, host in ~/.ssh/known_hosts)"
                if endpoint
                else "start dockerd (`docker info` must work)"
            ),
        ) from None
    return client


def stack_image(
    stack: Any,
    *,
    project_dir: Path,
    build: bool = True,
    pip_index: bool = False,
    progress: Callable[[str], None] | None = None,
    client: Any = None,
) -> StackImage:
    """Plan (``build=False``) or find/build/push (``build=True``) the image of ``stack``.

    Raises:
        StackNotProvisionedError: a cloud stack that ``stack up`` never provisioned.
        ImageError: no registry where one is needed, or the image cannot be made.
    """
    kind = _executor_kind(stack)
    if kind == "local":
        return StackImage(
            stack=stack.name,
            executor=kind,
            reason="steps run in this process (local executor): no image to build",
        )
    outputs = _outputs(stack)
    if getattr(stack, "needs_provisioning", False) and outputs is None:
        from flowyml.runtime.errors import StackNotProvisionedError

        raise StackNotProvisionedError(
            f"stack {stack.name} has not been provisioned, so its registry is unknown",
            hint=f"run `flowyml stack up {stack.name}`",
        )
    registry = stack_registry(stack, outputs)
    if registry is None and kind not in _ENGINE_KINDS:
        raise ImageError(
            f"stack {stack.name} runs steps on {kind} but has no container registry to push "
            "their image to",
            hint="declare a container_registry on the stack (and run `flowyml stack up`).",
        )
    extras = image_extras(_artifact_uri(stack, outputs))
    docker_config = getattr(stack, "docker", None)
    plan = plan_image(docker_config, registry=registry, project_dir=project_dir, extras=extras)
    if not build:
        return StackImage(stack=stack.name, executor=kind, plan=plan)
    image = ensure_image(
        docker_config,
        client=client if client is not None else engine_client(stack),
        registry=registry,
        project_dir=project_dir,
        extras=extras,
        pip_index=pip_index,
        progress=progress,
    )
    return StackImage(stack=stack.name, executor=kind, plan=plan, image=image)
