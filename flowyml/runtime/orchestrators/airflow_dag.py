"""A run manifest -> one Airflow DAG file (Airflow 3: ``airflow.sdk``).

A task per step, running ``python3 -m flowyml.entrypoint --manifest URI --step NAME
--engine-run-id {{ run_id }}``:

- ``KubernetesPodOperator`` on a stack whose executor is Kubernetes (the stack's image, its
  namespace, CPU / memory / GPU limits);
- ``DockerOperator`` on a stack whose executor is a Docker engine (the stack's image, its
  network);
- else a ``BashOperator`` on the Airflow worker itself (which must have flowyml installed).

Dependencies come from the pipeline's DAG, ``retries`` and ``execution_timeout`` are the steps'
own, and a ``flowyml_finalize`` task (``trigger_rule="all_done"``) writes the run's final marker
whatever happened, so a run nobody watched is recorded in full by ``flowyml runs sync``. The
flowyml run id is derived from Airflow's run id by every task alike (see the manifest module).
The file is plain Python made of literals: nothing in it is evaluated at parse time but
Airflow's own imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowyml.runtime.orchestrators.manifest import RunManifest

FINALIZE_TASK = "flowyml_finalize"
OperatorKind = str  # "kubernetes" | "docker" | "bash"
_ENGINE_RUN_ID = "{{ run_id }}"


def dag_id(pipeline: str) -> str:
    """``pipeline`` as an Airflow DAG id (letters, digits, ``_ . -``)."""
    return "flowyml_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", pipeline)


def task_id(step: str) -> str:
    """``step`` as an Airflow task id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", step)


def operator_kind(executor_kind: str) -> OperatorKind:
    """Which operator runs a step on a stack with this executor (module docstring)."""
    if executor_kind == "kubernetes":
        return "kubernetes"
    if executor_kind in ("docker", "remote"):
        return "docker"
    return "bash"


def _arguments(manifest_uri: str, step: str | None) -> list[str]:
    which = ["--step", step] if step is not None else ["--finalize"]
    return ["--manifest", manifest_uri, *which, "--engine-run-id", _ENGINE_RUN_ID]


def _limits(resources: Mapping[str, Any] | None) -> dict[str, str]:
    given = dict(resources or {})
    limits = {}
    if given.get("cpu"):
        limits["cpu"] = str(given["cpu"])
    if given.get("memory"):
        limits["memory"] = str(given["memory"])
    gpus = int(given.get("gpu_count") or (1 if given.get("gpu") else 0))
    if gpus:
        limits["nvidia.com/gpu"] = str(gpus)
    return limits


def _task(
    kind: OperatorKind,
    manifest: RunManifest,
    manifest_uri: str,
    step: Any,
    options: Mapping[str, Any],
) -> str:
    name = task_id(step.name) if step is not None else FINALIZE_TASK
    args = _arguments(manifest_uri, step.name if step is not None else None)
    env = dict(manifest.environment)
    common = [f"task_id={name!r}"]
    if step is not None:
        common.append(f"retries={int(step.retries)}")
        common.append(f"retry_delay=timedelta(seconds={float(step.retry_delay)!r})")
        if step.timeout:
            common.append(f"execution_timeout=timedelta(seconds={float(step.timeout)!r})")
    else:
        common.append('trigger_rule="all_done"')
    if kind == "kubernetes":
        limits = _limits(step.resources if step is not None else None)
        body = [
            f"name={('flowyml-' + name.replace('_', '-'))[:60]!r}",
            f"namespace={options.get('namespace', 'default')!r}",
            f"image={manifest.image!r}",
            "cmds=['python3', '-m', 'flowyml.entrypoint']",
            f"arguments={args!r}",
            f"env_vars={env!r}",
            f"container_resources=k8s.V1ResourceRequirements(limits={limits!r}, requests={limits!r})",
            "get_logs=True",
        ]
        operator = "KubernetesPodOperator"
    elif kind == "docker":
        body = [
            f"image={manifest.image!r}",
            f"command={['python3', '-m', 'flowyml.entrypoint', *args]!r}",
            f"environment={env!r}",
            f"network_mode={options.get('network', 'host')!r}",
            "auto_remove='success'",
        ]
        operator = "DockerOperator"
    else:
        import shlex

        command = shlex.join(["python3", "-m", "flowyml.entrypoint", *args])
        body = [f"bash_command={command!r}", f"env={env!r}", "append_env=True"]
        operator = "BashOperator"
    lines = ",\n        ".join([*common, *body])
    return f"    {_var(name)} = {operator}(\n        {lines},\n    )\n"


def _var(name: str) -> str:
    return "t_" + re.sub(r"\W", "_", name)


_IMPORTS = {
    "bash": "from airflow.providers.standard.operators.bash import BashOperator",
    "docker": "from airflow.providers.docker.operators.docker import DockerOperator",
    "kubernetes": "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator\n"
    "from kubernetes.client import models as k8s",
}


def render_dag(
    manifest: RunManifest,
    manifest_uri: str,
    *,
    executor_kind: str,
    schedule: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """The DAG file's text for ``manifest``.

    Args:
        manifest: The pipeline as its tasks run it.
        manifest_uri: Where the manifest was uploaded.
        executor_kind: The stack's executor kind (picks the operator).
        schedule: A cron expression (``None``: triggered runs only).
        options: ``namespace`` (Kubernetes) / ``network`` (Docker).
    """
    kind = operator_kind(executor_kind)
    opts = dict(options or {})
    tasks = "".join(_task(kind, manifest, manifest_uri, step, opts) for step in manifest.steps)
    tasks += _task(kind, manifest, manifest_uri, None, opts)
    edges = []
    for step in manifest.steps:
        for upstream in step.upstream:
            edges.append(f"    {_var(task_id(upstream))} >> {_var(task_id(step.name))}\n")
    everything = ", ".join(_var(task_id(s.name)) for s in manifest.steps)
    edges.append(f"    [{everything}] >> {_var(FINALIZE_TASK)}\n")
    return (
        f'"""flowyml pipeline {manifest.pipeline} on stack {manifest.stack} '
        '(generated by flowyml: edit the pipeline, not this file)."""\n\n'
        "from datetime import datetime, timedelta\n\n"
        "from airflow.sdk import DAG\n"
        f"{_IMPORTS[kind]}\n\n"
        "with DAG(\n"
        f"    dag_id={dag_id(manifest.pipeline)!r},\n"
        f"    schedule={schedule!r},\n"
        "    start_date=datetime(2024, 1, 1),\n"
        "    catchup=False,\n"
        "    max_active_runs=1,\n"
        "    tags=['flowyml'],\n"
        f"    description={('flowyml pipeline ' + manifest.pipeline)!r},\n"
        "):\n"
        f"{tasks}{''.join(edges)}"
    )
