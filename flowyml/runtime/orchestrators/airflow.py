"""Airflow: one DAG file per pipeline, written to the orchestrator's ``dag_folder``.

The folder is a local path or any fsspec URL (``gs://...`` for Cloud Composer). A schedule is
the DAG's own ``schedule``; ``schedule delete`` removes the file.

With an ``api_url`` (Airflow 3's API server), ``flowyml run`` deploys the DAG, waits until Airflow
has parsed that very file, unpauses it and triggers a dag run named ``flowyml__<id>`` through the
REST API, then follows it (dag run and task instance states); Ctrl-C marks the dag run failed.
The tasks derive the flowyml run id from Airflow's run id (see the manifest module), so the
driver records the run under that same derived id. Without an ``api_url`` the DAG is deployed
and ``flowyml run`` refuses, saying how to trigger it. Either way the runs Airflow makes on its
own are recorded by ``flowyml runs sync`` (every task writes its records to the artifact store).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from flowyml.core.records import RunStatus
from flowyml.runtime.orchestrators.airflow_api import AirflowApi
from flowyml.runtime.orchestrators.airflow_dag import FINALIZE_TASK, dag_id, render_dag
from flowyml.runtime.orchestrators.base import EngineState, ScheduleInfo
from flowyml.runtime.orchestrators.errors import OrchestratorError
from flowyml.runtime.orchestrators.manifest import RunManifest, run_id_for

RUN_PREFIX = "flowyml__"
PARSE_TIMEOUT_S = 300.0
_FINAL = {"success": RunStatus.COMPLETED, "failed": RunStatus.FAILED}


class AirflowEngine:
    """Airflow DAG files for one bound stack (module docstring)."""

    kind = "airflow"
    suffix = ".py"

    def __init__(self, bound: Any) -> None:
        self.name = bound.name
        declared = bound.declaration.orchestrator
        self.dag_folder = str(declared.dag_folder).rstrip("/")
        url = getattr(declared, "api_url", None)
        self.api = (
            AirflowApi(bound.name, url, declared.api_username, declared.api_password)
            if url
            else None
        )
        self.parse_timeout_s = PARSE_TIMEOUT_S
        executor = bound.executor
        self.executor_kind = str(getattr(executor, "kind", None) or "local")
        self.options = {
            "namespace": str(getattr(executor, "namespace", None) or "default"),
            "network": str(getattr(executor, "network", None) or "host"),
        }
        self._schedule: str | None = None

    def render(self, manifest: RunManifest, manifest_uri: str, schedule: str | None = None) -> str:
        """The DAG file's text."""
        return render_dag(
            manifest,
            manifest_uri,
            executor_kind=self.executor_kind,
            schedule=schedule,
            options=self.options,
        )

    def compile(self, manifest: RunManifest, manifest_uri: str, output: Path) -> Path:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(self.render(manifest, manifest_uri, self._schedule), encoding="utf-8")
        return output

    def deploy(self, text: str, manifest: RunManifest) -> str:
        """Write the DAG file into ``dag_folder``; returns its URL."""
        import fsspec

        target = f"{self.dag_folder}/{dag_id(manifest.pipeline)}.py"
        fs, path = fsspec.core.url_to_fs(target)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, text.encode("utf-8"))
        return target

    def submit(self, artifact: Path, manifest: RunManifest, run_id: str) -> str:
        """Deploy the DAG and, with an API, trigger it; returns ``<dag id>/<dag run id>``."""
        text = artifact.read_text(encoding="utf-8")
        target = self.deploy(text, manifest)
        dag = dag_id(manifest.pipeline)
        if self.api is None:
            raise OrchestratorError(
                f"stack {self.name}: DAG {dag} was deployed to {target}, but Airflow starts "
                "its runs itself and this stack names no Airflow API to trigger one",
                hint=f"give its AirflowOrchestrator an api_url, trigger it in Airflow "
                f"(`airflow dags trigger {dag}`) or give it a schedule (`flowyml schedule "
                "create`); `flowyml runs sync` records its runs",
            )
        self.api.wait_parsed(dag, text, self.parse_timeout_s)
        dag_run_id = RUN_PREFIX + run_id
        self.api.trigger(dag, dag_run_id)
        return f"{dag}/{dag_run_id}"

    def recorded_run_id(self, handle: str) -> str:
        """The flowyml run id the tasks of ``handle`` derive from Airflow's run id."""
        return run_id_for("", handle.split("/", 1)[1])

    def _api(self) -> AirflowApi:
        if self.api is None:
            raise OrchestratorError(
                f"stack {self.name}: flowyml follows Airflow runs only through its API",
                hint=f"give the AirflowOrchestrator of stack {self.name} an api_url",
            )
        return self.api

    def state(self, handle: str) -> EngineState:
        dag, dag_run_id = handle.split("/", 1)
        state, tasks = self._api().run(dag, dag_run_id)
        tasks.pop(FINALIZE_TASK, None)
        final = _FINAL.get(state)
        message = "Airflow marked the dag run failed" if final is RunStatus.FAILED else None
        return EngineState(final=final, tasks=tasks, message=message)

    def cancel(self, handle: str) -> None:
        dag, dag_run_id = handle.split("/", 1)
        self._api().fail(dag, dag_run_id)

    def create_schedule(self, artifact: Path, manifest: RunManifest, cron: str) -> str:
        text = artifact.read_text(encoding="utf-8").replace(
            "    schedule=None,\n", f"    schedule={cron!r},\n", 1
        )
        return self.deploy(text, manifest)

    def _files(self) -> list[tuple[str, Any]]:
        import fsspec

        fs, path = fsspec.core.url_to_fs(self.dag_folder)
        try:
            names = fs.glob(f"{path}/flowyml_*.py")
        except (FileNotFoundError, OSError):
            return []
        return [(str(name), fs) for name in sorted(names)]

    def list_schedules(self) -> list[ScheduleInfo]:
        found = []
        for path, fs in self._files():
            text = fs.cat_file(path).decode("utf-8")
            cron = _keyword(text, "schedule")
            if cron:
                pipeline = str(_keyword(text, "description") or "").removeprefix(
                    "flowyml pipeline "
                )
                found.append(ScheduleInfo(path, pipeline, str(cron), "deployed"))
        return found

    def delete_schedule(self, schedule_id: str) -> None:
        for path, fs in self._files():
            if (
                path == schedule_id
                or path.endswith("/" + schedule_id)
                or Path(path).stem == schedule_id
            ):
                fs.rm_file(path)
                return
        raise OrchestratorError(
            f"stack {self.name}: no flowyml DAG {schedule_id!r} in {self.dag_folder}",
            hint="see them with `flowyml schedule list`",
        )


def _keyword(text: str, name: str) -> Any:
    """A literal keyword argument of the file's ``DAG(...)`` call (``None`` when absent)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG":
            for keyword in node.keywords:
                if keyword.arg == name:
                    return ast.literal_eval(keyword.value)
    return None


def create(bound: Any) -> AirflowEngine:
    """The Airflow engine of ``bound``."""
    return AirflowEngine(bound)
