"""Make sure the image a stack's steps need exists where they run: find it, or build and push it.

``ensure_image`` plans the image offline (``plan.py``), then asks the engine, then the
registry, whether the tag is already there; only a tag found nowhere is built (on the given
engine, with ``network_mode="host"``: builders here reach no package index, so Python packages
come as wheels prepared on the driver, see ``wheels.py``) and pushed to the stack's registry.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyml.runtime.images.errors import ImageError, import_docker
from flowyml.runtime.images.plan import WHEELS_DIR, ImagePlan, plan_image, render_dockerfile
from flowyml.runtime.images.registry import registry_auth
from flowyml.runtime.images.source import flowyml_source, wheel_requirements
from flowyml.runtime.images.wheels import download_wheels, probe_python
from flowyml.stacks.components import DockerConfig

__all__ = ["ImageRef", "ensure_image"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ImageRef:
    """The image to run a stack's steps in, as ``ensure_image`` left it.

    Attributes:
        reference: What to run: ``[REGISTRY/]REPOSITORY:TAG``, or the user's ``image``.
        built: Built in this call.
        pushed: Pushed in this call.
        digest: The registry's manifest digest, when it was pushed or found there.
        environment: ``env_vars`` of the Docker settings: set them when starting a container
            (they are not baked into the image).
    """

    reference: str
    built: bool
    pushed: bool
    digest: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


def ensure_image(
    docker_config: DockerConfig | None,
    *,
    client: Any,
    registry: str | None,
    project_dir: Path,
    repository: str = "flowyml",
    extras: Sequence[str] = (),
    pip_index: bool = False,
    progress: Progress | None = None,
) -> ImageRef:
    """Find or build (and push) the image ``docker_config`` calls for.

    Args:
        docker_config: The stack's Docker settings (``None``: ``base_image=python:3.11-slim``).
        client: A ``docker.DockerClient`` for the engine that builds (and runs) the image.
        registry: The stack's registry URI; ``None`` keeps the image on ``client``'s engine.
        project_dir: Directory that relative ``dockerfile`` / ``build_context`` start from.
        repository: Image repository under the registry.
        extras: flowyml extras installed beside flowyml (e.g. the artifact store's SDKs).
        pip_index: Let pip in the build reach the package index instead of installing only
            the wheels prepared on the driver.
        progress: Called with one line per build step, download and pushed layer.

    Raises:
        ImageError: the image cannot be found, built or pushed (one line, with a fix).
    """
    say = progress or (lambda _line: None)
    plan = plan_image(
        docker_config,
        registry=registry,
        project_dir=project_dir,
        repository=repository,
        extras=extras,
    )
    env = dict(plan.env)
    if not plan.builds:
        return _existing(client, plan.reference, env, say)
    auth = registry_auth(plan.reference) if plan.registry else None
    if _local(client, plan.reference) is None:
        digest = _registry_digest(client, plan.reference, auth) if plan.registry else None
        if digest is not None:
            say(f"{plan.reference}: already in the registry")
            return ImageRef(
                plan.reference, built=False, pushed=False, digest=digest, environment=env
            )
        _build(plan, client, project_dir, docker_config, pip_index, say)
        built = True
    else:
        built = False
        if not plan.registry:
            say(f"{plan.reference}: up to date")
            return ImageRef(plan.reference, built=False, pushed=False, environment=env)
        digest = _registry_digest(client, plan.reference, auth)
        if digest is not None:
            say(f"{plan.reference}: up to date")
            return ImageRef(
                plan.reference, built=False, pushed=False, digest=digest, environment=env
            )
    if not plan.registry:
        return ImageRef(plan.reference, built=built, pushed=False, environment=env)
    digest = _push(client, plan.reference, auth, say)
    return ImageRef(plan.reference, built=built, pushed=True, digest=digest, environment=env)


def _docker_errors() -> Any:
    return import_docker().errors


def _local(client: Any, reference: str) -> Any:
    errors = _docker_errors()
    try:
        return client.images.get(reference)
    except errors.ImageNotFound:
        return None
    except errors.APIError as exc:
        raise ImageError(
            f"the Docker engine did not answer about {reference}: {_first_line(exc)}",
            hint="check that dockerd runs (`docker info`).",
        ) from None


def _registry_digest(client: Any, reference: str, auth: dict[str, str] | None) -> str | None:
    """The registry's digest of ``reference``, ``None`` when it does not hold that tag."""
    errors = _docker_errors()
    try:
        data = client.images.get_registry_data(reference, auth_config=auth)
    except errors.NotFound:
        return None
    except errors.APIError as exc:
        text = str(exc).lower()
        if "manifest unknown" in text or "not found" in text or "does not exist" in text:
            return None
        raise ImageError(
            f"the registry of {reference} did not answer: {_first_line(exc)}",
            hint="check the registry URI and your credentials for it.",
        ) from None
    return str(data.id)


def _existing(client: Any, reference: str, env: dict[str, str], say: Progress) -> ImageRef:
    """``image=``: used as is, once it is known to exist and (when local) to hold flowyml."""
    image = _local(client, reference)
    if image is not None:
        if not probe_python(client, image.id).has_flowyml:
            raise ImageError(
                f"image {reference} has no flowyml for python3, so steps cannot start in it",
                hint="install flowyml into it, or use DockerConfig(base_image=...) to have "
                "flowyml add itself on top.",
            )
        say(f"{reference}: found on the engine")
        return ImageRef(reference, built=False, pushed=False, environment=env)
    digest = _registry_digest(client, reference, registry_auth(reference))
    if digest is None:
        raise ImageError(
            f"image {reference} is neither on the Docker engine nor in its registry",
            hint="build and push it first, or fix DockerConfig(image=...).",
        )
    say(f"{reference}: found in its registry")
    return ImageRef(reference, built=False, pushed=False, digest=digest, environment=env)


def _ensure_base(client: Any, base: str, say: Progress) -> Any:
    image = _local(client, base)
    if image is not None:
        return image
    say(f"pulling base image {base}")
    errors = _docker_errors()
    try:
        return client.images.pull(base, auth_config=registry_auth(base))
    except errors.APIError as exc:
        raise ImageError(
            f"base image {base} is not on the Docker engine and cannot be pulled: "
            f"{_first_line(exc)}",
            hint="pull or build it first, or point DockerConfig(base_image=...) at an image "
            "your engine has (see docs/docker.md).",
        ) from None


def _build(
    plan: ImagePlan,
    client: Any,
    project_dir: Path,
    config: DockerConfig | None,
    pip_index: bool,
    say: Progress,
) -> None:
    if plan.form == "dockerfile":
        assert config is not None
        base = _build_user_dockerfile(plan, client, project_dir, config, say)
    else:
        base = plan.base
    base_image = _ensure_base(client, base, say)
    source = flowyml_source()
    with tempfile.TemporaryDirectory(prefix="flowyml-image-") as tmp:
        context = Path(tmp)
        deps, own = context / WHEELS_DIR / "deps", context / WHEELS_DIR / "flowyml"
        deps.mkdir(parents=True)
        own.mkdir()
        wheel = Path(shutil.copy2(source.wheel(), own))
        needed = [*wheel_requirements(wheel, plan.extras), *plan.requirements]
        (deps / "requirements.txt").write_text("\n".join(needed) + "\n")
        if not pip_index:
            target = probe_python(client, base_image.id)
            download_wheels(needed, target, deps, progress=say)
        (context / "Dockerfile").write_text(render_dockerfile(base, source.version, source.digest))
        say(f"building {plan.reference} from {plan.base}")
        _stream_build(
            client,
            say,
            plan.reference,
            path=str(context),
            tag=plan.reference,
            buildargs={"FLOWYML_PIP_FLAGS": "" if pip_index else "--no-index"},
        )
    say(f"built {plan.reference}")


def _build_user_dockerfile(
    plan: ImagePlan, client: Any, project_dir: Path, config: DockerConfig, say: Progress
) -> str:
    """Build the user's Dockerfile; the result (tagged ``REF-dockerfile``) is the base."""
    assert config.dockerfile is not None
    context = (project_dir / config.context).resolve()
    dockerfile = (project_dir / config.dockerfile).resolve()
    relative = dockerfile.relative_to(context) if dockerfile.is_relative_to(context) else None
    tag = f"{plan.reference}-dockerfile"
    say(f"building {config.dockerfile} (context {config.context})")
    _stream_build(
        client,
        say,
        tag,
        path=str(context),
        dockerfile=str(relative) if relative else str(dockerfile),
        tag=tag,
        buildargs=dict(config.build_args),
    )
    return tag


def _stream_build(client: Any, say: Progress, what: str, **options: Any) -> None:
    errors = _docker_errors()
    last_error_line = ""
    try:
        stream: Iterable[dict[str, Any]] = client.api.build(
            network_mode="host", rm=True, forcerm=True, pull=False, decode=True, **options
        )
        for chunk in stream:
            if "error" in chunk:
                detail = last_error_line or str(chunk["error"]).strip().splitlines()[0]
                raise ImageError(
                    f"building {what} failed: {detail}",
                    hint="see the build output above (flowyml build shows it), fix the "
                    "requirement or Dockerfile, and build again.",
                )
            for line in str(chunk.get("stream", "")).splitlines():
                line = line.strip()
                if line.startswith("Step "):
                    step = " ".join(line.split())
                    say(f"build: {step[:96]}..." if len(step) > 99 else f"build: {step}")
                elif line.startswith("ERROR"):
                    last_error_line = line
    except errors.APIError as exc:
        raise ImageError(f"building {what} failed: {_first_line(exc)}") from None


def _push(client: Any, reference: str, auth: dict[str, str] | None, say: Progress) -> str | None:
    errors = _docker_errors()
    name, _, tag = reference.rpartition(":")
    say(f"pushing {reference}")
    digest: str | None = None
    shown: dict[str, str] = {}
    try:
        for chunk in client.api.push(name, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in chunk:
                raise ImageError(
                    f"pushing {reference} failed: {str(chunk['error']).strip()}",
                    hint="check that the registry accepts pushes from you (credentials, "
                    "repository exists).",
                )
            layer, status = chunk.get("id"), chunk.get("status", "")
            if layer and status and status != "Pushing" and shown.get(layer) != status:
                shown[layer] = status
                say(f"push: {layer}: {status}")
            aux = chunk.get("aux") or {}
            if aux.get("Digest"):
                digest = str(aux["Digest"])
    except errors.APIError as exc:
        raise ImageError(f"pushing {reference} failed: {_first_line(exc)}") from None
    say(f"pushed {reference}" + (f" ({digest})" if digest else ""))
    return digest


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
