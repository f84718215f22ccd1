"""The compiled KFP spec itself, container components and all, run by `kfp.local`'s DockerRunner
on the real Docker engine in an image flowyml built: each step's container runs the flowyml
entrypoint and the run ends recorded by flowyml with the outputs of a local run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import compile_pipeline
from flowyml.runtime.orchestrators.record import sync_stack
from flowyml.stacks.components import DockerConfig
from runtime.orchestrators.helpers import kubeflow_stack

pytestmark = pytest.mark.docker
kfp_local = pytest.importorskip(
    "kfp.local", reason="kfp is not installed (pip install 'flowyml[kfp]')"
)


@pytest.fixture(scope="module")
def step_image(
    docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An image holding flowyml, made by flowyml's own builder (the stack uses it as is)."""
    from flowyml.runtime.images.build import ensure_image

    made = ensure_image(
        DockerConfig(base_image=base_image),
        client=docker_client,
        registry=None,
        project_dir=tmp_path_factory.mktemp("image-project"),
    )
    return made.reference


def test_the_container_spec_runs_under_kfp_dockerrunner_and_is_recorded(
    project: Path, step_image: str
) -> None:
    import docker
    from kfp import components

    stack = kubeflow_stack(project).model_copy(update={"docker": DockerConfig(image=step_image)})
    bound = bind_stack(stack)
    compiled = compile_pipeline(
        load_pipeline("pipelines.py:orchestrated"), bound, project.parent / "spec.yaml", build=False
    )
    assert compiled.manifest.image == step_image
    # The local store's folder is mounted at the same path, as a cluster would mount a volume.
    root = str(project / ".flowyml")
    kfp_local.init(
        runner=kfp_local.DockerRunner(
            network_mode="host",
            mounts=[docker.types.Mount(target=root, source=root, type="bind")],
        ),
        pipeline_root=str(project.parent / "kfp-root"),
        raise_on_error=False,
    )
    components.load_component_from_file(str(compiled.artifact))(flowyml_run_id="")
    (run,) = sync_stack(bound)
    record = bound.metadata_store.get_run(run.run_id)
    assert record.status is RunStatus.COMPLETED, record.error
    steps = {s.name: s for s in record.steps}
    assert {s.status for s in steps.values()} == {StepStatus.COMPLETED}
    local = load_pipeline("pipelines.py:orchestrated").run(
        stack=stack.model_copy(update={"orchestrator": None})
    )
    store = bound.artifact_store
    for name in ("load", "total", "scale"):
        assert store.load(steps[name].outputs["output"]) == local[name]
    report = store.load(steps["report"].outputs["output"])
    assert report["total"] == 45 and report["pid"] == 1  # PID 1: its own container
    assert steps["report"].inputs["count"] == steps["total"].outputs["output"]
