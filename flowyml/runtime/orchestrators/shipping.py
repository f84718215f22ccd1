"""What an orchestrated run ships: the executors' code package and image, for the orchestrator.

The image rules of :mod:`flowyml.runtime.images.for_stack` decide by executor kind, and an
orchestrated stack usually declares none (its orchestrator runs the steps). So the image is
made for the kind of machine that runs the tasks: pods or Vertex machines pull it from the
stack's registry (as for a Kubernetes executor); Airflow tasks run it on the stack's executor
(Docker, Kubernetes), or need none when they run on Airflow's own workers. ``build=False`` only
plans the image (its content-hash reference), which is what ``flowyml compile`` needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flowyml.core.paths import project_dir
from flowyml.runtime import code_package
from flowyml.runtime.submission import Submission, code_root_for, locate_step

NO_IMAGE = "python3"
"""What an Airflow task on Airflow's own workers runs in: their Python, with flowyml installed."""


class _RunsOn:
    """The bound stack's declaration, seen as if its executor were ``kind`` (for the image
    rules), with the registry and artifact store the binding already resolved from outputs."""

    def __init__(self, bound: Any, kind: str) -> None:
        self._declaration = bound.declaration
        self.executor = _Value(kind=kind)
        self.needs_provisioning = False  # bound: its outputs are already read
        registry = bound.registry_uri
        self.container_registry = _Value(uri=registry) if registry else None
        self.artifact_store = _Value(uri=bound.artifact_store.root_uri)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._declaration, name)


class _Value:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def task_machine(bound: Any) -> str:
    """The executor kind whose image rules apply to the orchestrator's tasks (``local``: none)."""
    orchestrator = str(getattr(bound.declaration.orchestrator, "kind", "none"))
    executor = str(getattr(bound.executor, "kind", None) or "local")
    if orchestrator == "airflow":
        return executor
    return "kubernetes"  # Vertex AI and Kubeflow pull the image from a registry


def prepare(
    bound: Any,
    steps: Sequence[Any],
    *,
    build: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """``bound`` with its :class:`Submission`: code package uploaded, image built or planned.

    Raises:
        BindingError / ImageError / ArtifactError: the stack cannot ship these steps.
    """
    from flowyml.runtime.images.for_stack import stack_image

    say = progress or (lambda _line: None)
    root = code_root_for(steps)
    for step in steps:
        locate_step(step, root)
    package = code_package.pack(root)
    code_uri = code_package.upload(package, bound.artifact_store)
    say(f"code package {package.sha256[:12]} ({package.files} files) at {code_uri}")
    kind = task_machine(bound)
    if kind == "local":
        return bound.with_submission(Submission(image=NO_IMAGE, code_uri=code_uri, code_root=root))
    made = stack_image(_RunsOn(bound, kind), project_dir=project_dir(), build=build, progress=say)
    if build:
        assert made.image is not None  # stack_image builds for every kind but local
        image, environment, built = (
            made.image.reference,
            dict(made.image.environment),
            made.image.built,
        )
    else:
        assert made.plan is not None
        image, environment, built = made.plan.reference, dict(made.plan.env), False
    return bound.with_submission(
        Submission(
            image=image,
            code_uri=code_uri,
            code_root=root,
            environment=environment,
            image_built=built,
        )
    )
