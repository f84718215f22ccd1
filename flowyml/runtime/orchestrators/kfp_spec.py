"""A run manifest -> a KFP v2 pipeline spec (YAML), made by the real ``kfp`` compiler.

Vertex AI Pipelines and Kubeflow Pipelines both run this artifact. Each step is a container
component running ``python3 -m flowyml.entrypoint --manifest URI --step NAME`` in the stack's
image; data passes as flowyml artifact references (the step's task resolves its inputs from its
upstreams' result records), so the artifact store stays the source of truth and KFP passes no
data at all: dependencies are ``.after()`` edges. Per task:

- ResourceConfig -> CPU and memory limits, accelerator type and count (Vertex takes its
  accelerator names, ``NVIDIA_TESLA_T4``; Kubeflow takes ``nvidia.com/gpu`` plus, through
  ``kfp-kubernetes``, the node selector and tolerations of GPU / spot node pools);
- ``retries`` -> KFP's retry policy; ``timeout`` is enforced by the entrypoint itself (KFP v2
  has no per-task timeout), so a timed-out attempt is a failed attempt the engine retries;
- KFP's own cache is off: flowyml's cache (the cache index in the artifact store) decides;
- a ``flowyml-finalize`` exit task writes the run's final marker whatever happened.

The pipeline takes one parameter, ``flowyml_run_id``: the driver passes the id it recorded; a
scheduled run leaves it empty and every task derives the same id from ``{{$.pipeline_job_uuid}}``.

``local=True`` compiles the same graph as lightweight Python components for ``kfp.local``'s
``SubprocessRunner`` (which runs no container components); their body calls the same
entrypoint with the same arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from flowyml.runtime.orchestrators.manifest import RunManifest

Target = Literal["vertex_ai", "kubeflow"]
RUN_ID_PARAMETER = "flowyml_run_id"
FINALIZE_TASK = "flowyml-finalize"
ENTRYPOINT = ["python3", "-m", "flowyml.entrypoint"]
_GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"
_GKE_SPOT = "cloud.google.com/gke-spot"
GPU_RESOURCE = "nvidia.com/gpu"


def kfp_name(text: str) -> str:
    """``text`` as a KFP pipeline / component name (lower-case letters, digits, dashes)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return (slug or "pipeline")[:120]


def vertex_accelerator(gpu: str) -> str:
    """A GPU name as Vertex spells accelerator types: ``nvidia-tesla-t4`` -> ``NVIDIA_TESLA_T4``."""
    from flowyml.cost.machines import gpu_key

    return gpu_key(gpu).upper().replace("-", "_")


def task_args(manifest_uri: str, step: str | None, run_id: Any, engine_run_id: Any) -> list[Any]:
    """The entrypoint's manifest-mode arguments (``step=None``: the finalize task)."""
    which = ["--step", step] if step is not None else ["--finalize"]
    return [
        "--manifest",
        manifest_uri,
        *which,
        "--run-id",
        run_id,
        "--engine-run-id",
        engine_run_id,
    ]


def _container_component(name: str, image: str, manifest_uri: str, step: str | None) -> Any:
    from kfp import dsl

    def component(run_id: str) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(
            image=image,
            command=list(ENTRYPOINT),
            args=task_args(manifest_uri, step, run_id, dsl.PIPELINE_JOB_ID_PLACEHOLDER),
        )

    component.__name__ = component.__qualname__ = name.replace("-", "_")
    # kfp reads the annotations as types; this module's are strings (postponed evaluation).
    component.__annotations__ = {"run_id": str, "return": dsl.ContainerSpec}
    return dsl.container_component(component)


def flowyml_task(manifest: str, step: str, run_id: str, engine_run_id: str) -> None:
    """The body of a ``local=True`` component (kfp copies this function's source)."""
    from flowyml.runtime.entrypoint import main

    args = ["--manifest", manifest, "--run-id", run_id, "--engine-run-id", engine_run_id]
    args += ["--finalize"] if step == "" else ["--step", step]
    code = main(args)
    if code != 0:
        raise RuntimeError(f"flowyml entrypoint exited with code {code}")


def _local_component(image: str) -> Any:
    from kfp import dsl

    flowyml_task.__annotations__ = {
        "manifest": str,
        "step": str,
        "run_id": str,
        "engine_run_id": str,
        "return": None,
    }
    return dsl.component(flowyml_task, base_image=image, install_kfp_package=False)


def _resources(
    task: Any, resources: Mapping[str, Any] | None, target: Target, provider: str | None
) -> None:
    given = dict(resources or {})
    if given.get("cpu"):
        task.set_cpu_limit(str(given["cpu"]))
    if given.get("memory"):
        task.set_memory_limit(_memory(str(given["memory"])))
    gpus = int(given.get("gpu_count") or (1 if given.get("gpu") else 0))
    if gpus:
        if target == "vertex_ai":
            task.set_accelerator_type(
                vertex_accelerator(str(given.get("gpu") or "nvidia-tesla-t4"))
            )
        else:
            task.set_accelerator_type(GPU_RESOURCE)
        task.set_accelerator_limit(gpus)
    if target == "kubeflow":
        _placement(task, given, gpus, provider)


def _memory(quantity: str) -> str:
    """KFP takes ``G``/``Gi``/``M``/``Mi``... suffixes as Kubernetes does (``8GB`` -> ``8G``)."""
    return quantity[:-1] if quantity.upper().endswith(("GB", "MB", "KB", "TB")) else quantity


def _placement(task: Any, given: Mapping[str, Any], gpus: int, provider: str | None) -> None:
    from kfp import kubernetes

    from flowyml.cost.machines import gpu_key

    if given.get("machine_type"):
        kubernetes.add_node_selector(
            task, "node.kubernetes.io/instance-type", str(given["machine_type"])
        )
    if gpus:
        if provider == "gcp" and given.get("gpu"):
            kubernetes.add_node_selector(task, _GKE_ACCELERATOR, gpu_key(str(given["gpu"])))
        # GPU node pools carry the nvidia.com/gpu NoSchedule taint (GKE sets it, EKS by convention).
        kubernetes.add_toleration(task, key=GPU_RESOURCE, operator="Exists", effect="NoSchedule")
    if given.get("preemptible") and provider == "gcp":
        kubernetes.add_node_selector(task, _GKE_SPOT, "true")
        kubernetes.add_toleration(
            task, key=_GKE_SPOT, operator="Equal", value="true", effect="NoSchedule"
        )
    elif given.get("preemptible") and provider == "aws":
        kubernetes.add_node_selector(task, "eks.amazonaws.com/capacityType", "SPOT")


def pipeline_function(
    manifest: RunManifest,
    manifest_uri: str,
    *,
    target: Target,
    provider: str | None = None,
    local: bool = False,
) -> Any:
    """The ``@dsl.pipeline`` of ``manifest`` (compile it, or run it under ``kfp.local``)."""
    from kfp import dsl

    local_component = _local_component(manifest.image) if local else None

    def make(step: str | None, name: str) -> Any:
        if local_component is not None:
            return lambda run_id: local_component(
                manifest=manifest_uri,
                step=step if step is not None else "",
                run_id=run_id,
                engine_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            )
        return _container_component(name, manifest.image, manifest_uri, step)

    components = {s.name: make(s.name, kfp_name(s.name)) for s in manifest.steps}
    finalize = make(None, FINALIZE_TASK)

    def graph(flowyml_run_id: str = "") -> None:
        exit_task = finalize(run_id=flowyml_run_id)
        exit_task.set_display_name(FINALIZE_TASK)
        _configure(exit_task, manifest.environment, local)
        tasks: dict[str, Any] = {}
        with dsl.ExitHandler(exit_task, name="flowyml-steps"):
            for step in manifest.steps:
                task = components[step.name](run_id=flowyml_run_id)
                task.set_display_name(step.name)
                _configure(task, manifest.environment, local)
                if step.retries:
                    task.set_retry(
                        num_retries=step.retries, backoff_duration=f"{int(step.retry_delay)}s"
                    )
                if not local:
                    _resources(task, step.resources, target, provider)
                for upstream in step.upstream:
                    task.after(tasks[upstream])
                tasks[step.name] = task

    graph.__name__ = "flowyml_pipeline"
    graph.__annotations__ = {RUN_ID_PARAMETER: str, "return": None}
    description = f"flowyml pipeline {manifest.pipeline} on stack {manifest.stack}"
    return dsl.pipeline(name=kfp_name(manifest.pipeline), description=description)(graph)


def _configure(task: Any, environment: Mapping[str, str], local: bool) -> None:
    task.set_caching_options(False)  # flowyml's cache decides (module docstring)
    if not environment:
        return
    # What set_env_variable does, once per task: each of its calls walks the whole call stack
    # with source context (inspect.stack), 17 ms apiece, most of a 50-step compile.
    spec = task.container_spec
    if spec is None:
        raise ValueError("a flowyml task is always a single container")
    spec.env = {**(spec.env or {}), **dict(sorted(environment.items()))}


def compile_spec(
    manifest: RunManifest,
    manifest_uri: str,
    output: Path,
    *,
    target: Target,
    provider: str | None = None,
    local: bool = False,
) -> Path:
    """Compile ``manifest`` to a KFP v2 pipeline spec at ``output`` (YAML); returns the path."""
    from kfp import compiler

    function = pipeline_function(
        manifest, manifest_uri, target=target, provider=provider, local=local
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(
        pipeline_func=function,
        package_path=str(output),
        pipeline_parameters={RUN_ID_PARAMETER: ""},
    )
    return output
