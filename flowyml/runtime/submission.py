"""What a run ships to a stack whose steps leave this process: its code package and image.

Prepared once per stack and run by the run facade, before any step starts, so a stack that
cannot run (no engine, an image that cannot be built, a step that cannot be imported where it
runs) is refused up front, in one line.

Where a step is found where it runs: a step defined in a file under the code root travels as
that file's path in the code package plus its qualified name; any other step must be importable
by module name in the image. Steps defined inside a function can be imported by neither way.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowyml.core.paths import project_dir
from flowyml.runtime import code_package
from flowyml.runtime.errors import BindingError

__all__ = ["StepLocation", "Submission", "locate_step", "prepare_submission"]


@dataclass(frozen=True)
class StepLocation:
    """How the entrypoint finds one step: ``source`` file in the package, or ``module``."""

    source: str
    module: str
    qualname: str


@dataclass(frozen=True)
class Submission:
    """What remote strategies ship with every attempt of one run.

    Attributes:
        image: Image reference the steps run in.
        environment: Variables set in every container (the Docker settings' ``env_vars``).
        code_uri: URI of the uploaded code package.
        code_root: The directory packed.
        image_built: The image was built for this run.
    """

    image: str
    code_uri: str
    code_root: Path
    environment: dict[str, str] = field(default_factory=dict)
    image_built: bool = False


def _source_file(func: Any) -> Path | None:
    try:
        found = inspect.getsourcefile(func)
    except TypeError:
        return None
    return Path(found).resolve() if found else None


def code_root_for(steps: Sequence[Any]) -> Path:
    """The project directory when it holds every step's file, else their common folder."""
    root = project_dir()
    files = [f for f in (_source_file(s.func) for s in steps) if f is not None]
    if all(f.is_relative_to(root) for f in files):
        return root
    return Path(os.path.commonpath([str(f.parent) for f in files])) if files else root


def locate_step(step: Any, root: Path) -> StepLocation:
    """Where the entrypoint will find ``step`` (see the module docstring).

    Raises:
        BindingError: the step is defined inside a function.
    """
    func = step.func
    qualname = func.__qualname__
    if "<locals>" in qualname:
        raise BindingError(
            f"step '{step.name}' is defined inside a function ({qualname}), so it cannot be "
            "imported where the step runs",
            hint="define steps at module level in a file of the project",
        )
    path = _source_file(func)
    if path is not None and path.is_relative_to(root):
        return StepLocation(path.relative_to(root).as_posix(), func.__module__, qualname)
    return StepLocation("", func.__module__, qualname)


def prepare_submission(
    bound: Any, steps: Sequence[Any], *, progress: Callable[[str], None] | None = None
) -> Any:
    """``bound`` with its :class:`Submission` for one run (code uploaded, image ensured).

    Raises:
        BindingError / ImageError / ArtifactError: the stack cannot run these steps.
    """
    from flowyml.runtime.images.for_stack import stack_image

    say = progress or (lambda _line: None)
    root = code_root_for(steps)
    for step in steps:
        locate_step(step, root)
    if getattr(bound.executor, "kind", None) == "remote" and bound.artifact_store.local_root:
        raise BindingError(
            f"stack {bound.name}: steps on the remote Docker engine "
            f"{bound.executor.endpoint} cannot reach the artifact store "
            f"{bound.artifact_store.root_uri} on this machine's disk",
            hint="give the stack an object-store artifact_store (s3://, gs://, az://) that "
            "both machines reach",
        )
    # The image first: a stack refused for its image leaves nothing behind in the store.
    made = stack_image(bound.declaration, project_dir=project_dir(), progress=say)
    if made.image is None:  # a flavor marked remote always needs an image
        raise BindingError(f"stack {bound.name}: {made.reason or 'no image'}")
    package = code_package.pack(root)
    present = bound.artifact_store.has_uri(bound.artifact_store.uri_of(package.key))
    code_uri = code_package.upload(package, bound.artifact_store)
    what = "already in the artifact store" if present else "uploaded"
    say(f"code package {package.sha256[:12]} ({package.files} files): {what}")
    return bound.with_submission(
        Submission(
            image=made.image.reference,
            code_uri=code_uri,
            code_root=root,
            environment=dict(made.image.environment),
            image_built=made.image.built,
        )
    )
