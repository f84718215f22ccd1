"""Compile: the KFP v2 spec comes from the real `kfp` compiler and loads back with kfp; its
components' images, commands, resources, retries, placement and dependencies are checked on the
parsed spec; `flowyml compile` writes it (and the Airflow DAG) from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from flowyml.cli.loader import load_pipeline
from flowyml.cli.main import cli
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import compile_pipeline
from flowyml.runtime.orchestrators.manifest import RunManifest
from flowyml.runtime.orchestrators.tasks import read_manifest
from runtime.orchestrators.helpers import airflow_stack, kubeflow_stack

STEPS = ("load", "total", "scale", "report")


def _spec(path: Path) -> dict[str, Any]:
    """The pipeline spec document (the second, if any, is the platform spec)."""
    first: dict[str, Any] = next(yaml.safe_load_all(path.read_text()))
    return first


def _executor(spec: dict[str, Any], task: str) -> dict[str, Any]:
    container: dict[str, Any] = spec["deploymentSpec"]["executors"][f"exec-{task}"]["container"]
    return container


def _dag_tasks(spec: dict[str, Any]) -> dict[str, Any]:
    tasks: dict[str, Any] = spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]
    return tasks


@pytest.fixture
def kfp_compiled(project: Path) -> tuple[Path, Any]:
    compiled = compile_pipeline(
        load_pipeline("pipelines.py:orchestrated"),
        bind_stack(kubeflow_stack(project)),
        project.parent / "out" / "orchestrated.yaml",
        build=False,
    )
    return compiled.artifact, compiled


def test_the_spec_loads_back_with_kfp_and_names_one_container_per_step(
    kfp_compiled: tuple[Path, Any],
) -> None:
    from kfp import components

    artifact, compiled = kfp_compiled
    loaded = components.load_component_from_file(str(artifact))
    assert loaded.name == "orchestrated"
    assert set(loaded.component_spec.inputs or {}) == {"flowyml_run_id"}
    spec = _spec(artifact)
    assert spec["schemaVersion"] == "2.1.0"
    image = compiled.manifest.image
    assert image.startswith("gcr.io/my-project/flowyml:")  # the planned content-hash tag
    for step in STEPS:
        container = _executor(spec, step)
        assert container["image"] == image
        assert container["command"] == ["python3", "-m", "flowyml.entrypoint"]
        args = container["args"]
        assert args[:4] == ["--manifest", compiled.manifest_uri, "--step", step]
        assert args[4:] == [
            "--run-id",
            "{{$.inputs.parameters['run_id']}}",
            "--engine-run-id",
            "{{$.pipeline_job_uuid}}",
        ]
        assert {"name": "PYTHONUNBUFFERED", "value": "1"} in container["env"]
    final = _executor(spec, "flowyml-finalize")
    assert "--finalize" in final["args"]
    # The finalize task is the exit handler: it runs whatever the steps did.
    root_tasks = spec["root"]["dag"]["tasks"]
    assert (
        root_tasks["flowyml-finalize"]["triggerPolicy"]["strategy"]
        == "ALL_UPSTREAM_TASKS_COMPLETED"
    )
    assert root_tasks["flowyml-finalize"]["dependentTasks"] == ["exit-handler-1"]


def test_dependencies_retries_resources_and_cache_come_from_the_pipeline(
    kfp_compiled: tuple[Path, Any],
) -> None:
    artifact, _ = kfp_compiled
    spec = _spec(artifact)
    tasks = _dag_tasks(spec)
    assert "dependentTasks" not in tasks["load"]
    assert tasks["total"]["dependentTasks"] == ["load"]
    assert sorted(tasks["report"]["dependentTasks"]) == ["scale", "total"]
    assert tasks["total"]["retryPolicy"]["maxRetryCount"] == 2
    assert "retryPolicy" not in tasks["load"]
    # KFP's cache is off everywhere: flowyml's cache decides.
    assert all(t["cachingOptions"] == {} for t in tasks.values())
    total = _executor(spec, "total")["resources"]
    assert total["resourceCpuLimit"] == "2" and total["resourceMemoryLimit"] == "4Gi"
    scale = _executor(spec, "scale")["resources"]
    assert scale["resourceCpuLimit"] == "4" and scale["resourceMemoryLimit"] == "16Gi"
    assert scale["accelerator"]["resourceType"] == "nvidia.com/gpu"
    assert scale["accelerator"]["resourceCount"] == "1"
    assert "resources" not in _executor(spec, "load")


def test_kubeflow_places_gpu_steps_with_kfp_kubernetes(project: Path) -> None:
    compiled = compile_pipeline(
        load_pipeline("pipelines.py:orchestrated"),
        bind_stack(kubeflow_stack(project)),
        project.parent / "k.yaml",
        build=False,
    )
    docs = list(yaml.safe_load_all(compiled.artifact.read_text()))
    platform = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    scale = platform["exec-scale"]
    assert scale["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}
    ]
    assert set(platform) == {"exec-scale"}  # only the GPU step needs placement


def test_the_manifest_the_tasks_read_holds_every_step(kfp_compiled: tuple[Path, Any]) -> None:
    _, compiled = kfp_compiled
    manifest = read_manifest(compiled.manifest_uri, {})
    assert isinstance(manifest, RunManifest)
    assert [s.name for s in manifest.steps] == list(STEPS)
    report = manifest.step("report")
    assert report.inputs == (("count", "total", "output"), ("scaled", "scale", "output"))
    assert manifest.step("total").retries == 2 and manifest.step("total").timeout == 30.0
    assert manifest.code_uri.endswith(".tar.gz") and manifest.code_uri.startswith("file://")
    # Compiling again names the same manifest (content-addressed): a schedule keeps working.
    again = compile_pipeline(
        load_pipeline("pipelines.py:orchestrated"),
        compiled.bound,
        compiled.artifact.parent / "again.yaml",
        build=False,
    )
    assert again.manifest_uri == compiled.manifest_uri


def _write_stacks(project: Path, *stacks: Any) -> None:
    data = {
        "stacks": {s.name: {k: v for k, v in s.to_dict().items() if k != "name"} for s in stacks}
    }
    (project / "flowyml.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_flowyml_compile_writes_the_kfp_spec_and_the_airflow_dag(project: Path) -> None:
    _write_stacks(project, kubeflow_stack(project), airflow_stack(project))
    runner = CliRunner()
    done = runner.invoke(cli, ["compile", "pipelines.py:orchestrated", "--stack", "kfp"])
    assert done.exit_code == 0, done.output
    spec = _spec(project / "orchestrated.yaml")
    assert set(_dag_tasks(spec)) == set(STEPS)
    assert "(kubeflow, 4 steps, image gcr.io/my-project/flowyml:" in done.output
    out = project / "dags" / "x.py"
    done = runner.invoke(
        cli, ["compile", "pipelines.py:orchestrated", "--stack", "air", "--output", str(out)]
    )
    assert done.exit_code == 0, done.output
    text = out.read_text()
    compile(text, str(out), "exec")  # valid Python
    assert "BashOperator(" in text and "dag_id='flowyml_orchestrated'" in text


def test_flowyml_compile_refuses_a_stack_without_an_orchestrator(project: Path) -> None:
    stack = kubeflow_stack(project).model_copy(update={"orchestrator": None})
    _write_stacks(project, stack)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowyml.cli",
            "compile",
            "pipelines.py:orchestrated",
            "--stack",
            "kfp",
        ],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "no orchestrator" in lines[0] and "To fix:" in lines[0]
    assert done.stdout == ""
