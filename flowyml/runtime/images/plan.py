"""What image a stack's Docker settings call for, worked out offline (no Docker calls).

The tag is a content hash of everything that goes into the image: the form and its inputs
(base image reference; or the Dockerfile, the build context's files and build args), the
requirements, the flowyml extras, flowyml's version and source digest, and the generated
Dockerfile itself. The project's code is not in images (it travels as a code package), so a
code change never changes a tag. ``env_vars`` are not baked in either: the executor sets them
when it starts a container, so they never show in ``docker history`` and changing one
rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flowyml.runtime.images.errors import ImageError, import_docker
from flowyml.runtime.images.source import flowyml_source
from flowyml.stacks.components import DockerConfig

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "ImagePlan",
    "image_name",
    "plan_image",
    "render_dockerfile",
]

DEFAULT_BASE_IMAGE = "python:3.11-slim"
"""The base image when a stack has no Docker settings (any image with ``python3`` works)."""

_SCHEMA = "flowyml-image/1"
_TAG_CHARS = 24
WHEELS_DIR = "flowyml-wheels"  # in the build context and, during the build, in the image
VENV = "/opt/flowyml"

# One template for both forms that build (FROM a base, or FROM the image the user's
# Dockerfile made). Where it installs is decided in the build, not here, so the tag can be
# computed offline: into the image's own virtualenv when python3 already runs in one with pip,
# else into a new venv that still sees the image's own packages (--system-site-packages).
# Dependencies and flowyml are two layers: a new flowyml reuses the (slow) dependency layer
# from the engine's build cache. FLOWYML_PIP_FLAGS is --no-index (wheels from the context
# only) unless pip_index=True.
_TEMPLATE = """\
FROM {base}
ARG FLOWYML_PIP_FLAGS=--no-index
COPY {wheels}/deps /tmp/{wheels}/deps
RUN set -e; \\
    if python3 -c "import sys; sys.exit(sys.prefix == sys.base_prefix)" \\
        && python3 -m pip --version >/dev/null 2>&1; then PY=python3; \\
    else python3 -m venv --system-site-packages {venv} && PY={venv}/bin/python; fi; \\
    $PY -m pip install --disable-pip-version-check --no-cache-dir $FLOWYML_PIP_FLAGS \\
        --find-links /tmp/{wheels}/deps -r /tmp/{wheels}/deps/requirements.txt; \\
    rm -rf /tmp/{wheels}
COPY {wheels}/flowyml /tmp/{wheels}/flowyml
RUN set -e; \\
    if [ -x {venv}/bin/python ]; then PY={venv}/bin/python; else PY=python3; fi; \\
    $PY -m pip install --disable-pip-version-check --no-cache-dir --no-index --no-deps \\
        /tmp/{wheels}/flowyml/*.whl; \\
    rm -rf /tmp/{wheels}; \\
    $PY -c "import flowyml"
ENV PATH={venv}/bin:$PATH
LABEL org.flowyml.version="{version}" org.flowyml.source="{source}"
"""


@dataclass(frozen=True)
class ImagePlan:
    """The image a stack's steps run in, as far as it can be known without Docker.

    Attributes:
        form: ``"image"`` (used as is), ``"dockerfile"`` or ``"base_image"``.
        reference: What steps run: the user's image, or ``[REGISTRY/]REPOSITORY:TAG``.
        tag: The content-hash tag (``None`` for ``image``).
        registry: Where it is pushed (``None``: stays on the engine that built it).
        base: The base image (``base_image``), the Dockerfile path (``dockerfile``) or the image.
        requirements: The user's pip requirements.
        extras: flowyml extras installed beside flowyml.
        flowyml_version: The flowyml version that goes in.
        flowyml_digest: The digest of flowyml's sources that go in.
        dockerfile: The generated Dockerfile (``FROM`` the base, or a placeholder for the
            image the user's Dockerfile makes).
        env: Environment the executor sets when it starts a container.
        inputs: Everything the tag hashes (for ``--json`` and debugging).
    """

    form: Literal["image", "dockerfile", "base_image"]
    reference: str
    tag: str | None
    registry: str | None
    base: str
    requirements: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    flowyml_version: str | None = None
    flowyml_digest: str | None = None
    dockerfile: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, object] = field(default_factory=dict)

    @property
    def builds(self) -> bool:
        """Whether flowyml builds this image (every form but ``image``)."""
        return self.form != "image"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (what ``flowyml build --json`` prints)."""
        return {
            "form": self.form,
            "reference": self.reference,
            "tag": self.tag,
            "registry": self.registry,
            "base": self.base,
            "requirements": list(self.requirements),
            "extras": list(self.extras),
            "flowyml_version": self.flowyml_version,
        }


def render_dockerfile(base: str, version: str, source_digest: str) -> str:
    """The Dockerfile that installs flowyml (and the requirements) on top of ``base``."""
    return _TEMPLATE.format(
        base=base, wheels=WHEELS_DIR, venv=VENV, version=version, source=source_digest[:24]
    )


_ECR_RE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(/|$)")


def image_name(registry: str | None, repository: str) -> str:
    """The image name (no tag) for ``repository`` on ``registry``.

    An ECR registry URI that already names a repository (``ACCOUNT.dkr.ecr.REGION.amazonaws.com
    /REPO``, what ``stack up`` records) is the image name itself: ECR holds one image name per
    repository, and flowyml's images differ by tag only.
    """
    repository = repository.strip("/").lower()
    if not registry:
        return repository
    registry = registry.rstrip("/")
    if _ECR_RE.match(registry) and "/" in registry:
        return registry
    return f"{registry}/{repository}"


def _hash(data: object) -> str:
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def _context_digest(context: Path, dockerfile: Path) -> str:
    """sha256 of the files Docker would send as the context (honouring ``.dockerignore``)."""
    # Docker's own .dockerignore semantics.
    exclude_paths = import_docker().utils.build.exclude_paths

    ignore = context / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        patterns = [
            ln.strip()
            for ln in ignore.read_text().splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
    rel_dockerfile = dockerfile.relative_to(context) if dockerfile.is_relative_to(context) else None
    sha = hashlib.sha256()
    for rel in sorted(exclude_paths(str(context), patterns, str(rel_dockerfile or ""))):
        path = context / rel
        if path.is_file() and not path.is_symlink():
            sha.update(rel.encode() + b"\0" + oct(path.stat().st_mode & 0o111).encode())
            sha.update(hashlib.sha256(path.read_bytes()).digest())
        elif path.is_symlink():
            sha.update(rel.encode() + b"\0->" + str(path.readlink()).encode())
    return sha.hexdigest()


def plan_image(
    docker_config: DockerConfig | None,
    *,
    registry: str | None,
    project_dir: Path,
    repository: str = "flowyml",
    extras: Sequence[str] = (),
) -> ImagePlan:
    """Work out, offline, the image ``docker_config`` calls for and its tag.

    Args:
        docker_config: The stack's Docker settings; ``None`` means ``base_image=python:3.11-slim``.
        registry: The stack's registry URI (bound outputs or declared), or ``None``.
        project_dir: Directory that relative ``dockerfile`` / ``build_context`` paths start from.
        repository: Image repository under the registry.
        extras: flowyml extras to install beside it (e.g. what the artifact store needs).

    Raises:
        ImageError: the Dockerfile or build context does not exist, or flowyml's sources
            cannot be found.
    """
    config = docker_config or DockerConfig(base_image=DEFAULT_BASE_IMAGE)
    env = dict(config.env_vars)
    if config.form == "image":
        assert config.image is not None
        return ImagePlan(
            form="image",
            reference=config.image,
            tag=None,
            registry=None,
            base=config.image,
            env=env,
            inputs={"image": config.image},
        )
    source = flowyml_source()
    extras = tuple(sorted(set(extras)))
    inputs: dict[str, object] = {
        "schema": _SCHEMA,
        "form": config.form,
        "requirements": list(config.requirements),
        "extras": list(extras),
        "flowyml": [source.version, source.digest],
    }
    if config.form == "dockerfile":
        assert config.dockerfile is not None
        context = (project_dir / config.context).resolve()
        dockerfile = (project_dir / config.dockerfile).resolve()
        if not context.is_dir():
            raise ImageError(
                f"build_context {config.context} is not a directory (from {project_dir})",
                hint="point DockerConfig(build_context=...) at the directory to build from.",
            )
        if not dockerfile.is_file():
            raise ImageError(
                f"dockerfile {config.dockerfile} does not exist (from {project_dir})",
                hint="point DockerConfig(dockerfile=...) at your Dockerfile.",
            )
        base = config.dockerfile
        generated = render_dockerfile("{user-image}", source.version, source.digest)
        inputs |= {
            "dockerfile": hashlib.sha256(dockerfile.read_bytes()).hexdigest(),
            "context": _context_digest(context, dockerfile),
            "build_args": dict(sorted(config.build_args.items())),
        }
    else:
        assert config.base_image is not None
        base = config.base_image
        generated = render_dockerfile(base, source.version, source.digest)
        inputs["base_image"] = base
    inputs["generated"] = generated
    tag = _hash(inputs)[:_TAG_CHARS]
    return ImagePlan(
        form=config.form,
        reference=f"{image_name(registry, repository)}:{tag}",
        tag=tag,
        registry=registry or None,
        base=base,
        requirements=tuple(config.requirements),
        extras=extras,
        flowyml_version=source.version,
        flowyml_digest=source.digest,
        dockerfile=generated,
        env=env,
        inputs=inputs,
    )
