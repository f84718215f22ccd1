"""Kubeflow Pipelines: the KFP spec submitted through ``kfp.Client(host)``.

Runs go to the experiment ``flowyml`` in the orchestrator's namespace with KFP caching off;
schedules are KFP recurring runs named ``flowyml-<pipeline>`` (KFP's cron has a seconds field:
a five-field expression gets ``0`` in front).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowyml.core.records import RunStatus
from flowyml.runtime.orchestrators.base import EngineState, ScheduleInfo
from flowyml.runtime.orchestrators.kfp_spec import RUN_ID_PARAMETER, compile_spec
from flowyml.runtime.orchestrators.manifest import RunManifest

EXPERIMENT = "flowyml"
SCHEDULE_PREFIX = "flowyml-"
_FINAL = {
    "SUCCEEDED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "CANCELED": RunStatus.CANCELLED,
    "CANCELLED": RunStatus.CANCELLED,
    "SKIPPED": RunStatus.CANCELLED,
}


def kfp_cron(cron: str) -> str:
    """A five-field cron expression as KFP's six-field one (seconds first)."""
    fields = cron.split()
    return " ".join(["0", *fields]) if len(fields) == 5 else cron


class KubeflowEngine:
    """Kubeflow Pipelines for one bound stack (module docstring)."""

    kind = "kubeflow"
    suffix = ".yaml"

    def __init__(self, bound: Any) -> None:
        declared = bound.declaration.orchestrator
        self.host = declared.host
        self.namespace = str(declared.namespace)
        self.provider = str(getattr(bound.declaration, "type", "") or "") or None
        self._client: Any = None

    @property
    def client(self) -> Any:
        """``kfp.Client`` for the declared host (created on first use)."""
        if self._client is None:
            import kfp

            self._client = kfp.Client(host=self.host, namespace=self.namespace)
        return self._client

    def compile(self, manifest: RunManifest, manifest_uri: str, output: Path) -> Path:
        return compile_spec(
            manifest, manifest_uri, output, target="kubeflow", provider=self.provider
        )

    def submit(self, artifact: Path, manifest: RunManifest, run_id: str) -> str:
        result = self.client.create_run_from_pipeline_package(
            str(artifact),
            arguments={RUN_ID_PARAMETER: run_id},
            run_name=f"{manifest.pipeline}-{run_id[:12]}",
            experiment_name=EXPERIMENT,
            namespace=self.namespace,
            enable_caching=False,
        )
        return str(result.run_id)

    def state(self, handle: str) -> EngineState:
        run = self.client.get_run(handle)
        state = str(run.state or "").upper()
        tasks = {}
        details = getattr(getattr(run, "run_details", None), "task_details", None) or []
        for task in details:
            if task.display_name:
                tasks[str(task.display_name)] = str(task.state)
        error = getattr(run, "error", None)
        return EngineState(
            final=_FINAL.get(state), tasks=tasks, message=str(error.message) if error else None
        )

    def cancel(self, handle: str) -> None:
        self.client.terminate_run(handle)

    def create_schedule(self, artifact: Path, manifest: RunManifest, cron: str) -> str:
        experiment = self.client.create_experiment(EXPERIMENT, namespace=self.namespace)
        created = self.client.create_recurring_run(
            experiment_id=experiment.experiment_id,
            job_name=SCHEDULE_PREFIX + manifest.pipeline,
            cron_expression=kfp_cron(cron),
            pipeline_package_path=str(artifact),
            params={RUN_ID_PARAMETER: ""},
            max_concurrency=1,
            enable_caching=False,
        )
        return str(created.recurring_run_id)

    def list_schedules(self) -> list[ScheduleInfo]:
        response = self.client.list_recurring_runs(namespace=self.namespace, page_size=100)
        found = []
        for run in response.recurring_runs or []:
            name = str(run.display_name)
            if name.startswith(SCHEDULE_PREFIX):
                cron = str(getattr(getattr(run.trigger, "cron_schedule", None), "cron", "") or "")
                found.append(
                    ScheduleInfo(
                        str(run.recurring_run_id),
                        name[len(SCHEDULE_PREFIX) :],
                        cron,
                        str(run.status),
                    )
                )
        return found

    def delete_schedule(self, schedule_id: str) -> None:
        self.client.delete_recurring_run(schedule_id)


def create(bound: Any) -> KubeflowEngine:
    """The Kubeflow Pipelines engine of ``bound``."""
    return KubeflowEngine(bound)
