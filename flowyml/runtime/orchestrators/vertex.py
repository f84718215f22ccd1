"""Vertex AI Pipelines: the KFP spec submitted as an ``aiplatform.PipelineJob``.

The job is built by the SDK (``aiplatform.PipelineJob``: it reads the compiled spec and fills
the runtime config) entirely offline; its request (``_gca_resource``) is then sent through
``PipelineServiceClient.create_pipeline_job`` with the stack's runner service account, because
``PipelineJob.submit()`` would first try to create a staging bucket flowyml already provisions.
The pipeline root is ``<artifact root>/_vertex`` in the stack's bucket; KFP caching is off.
Schedules are Vertex ``Schedule`` resources wrapping the same request, display name
``flowyml-<pipeline>``.

``$FLOWYML_VERTEX_ENDPOINT`` (``http://host:port``) points every client at another endpoint
(REST, anonymous credentials): a local fake in tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowyml.core.outputs import PROJECT_ID, SERVICE_ACCOUNT
from flowyml.core.records import RunStatus
from flowyml.runtime.orchestrators.base import EngineState, ScheduleInfo
from flowyml.runtime.orchestrators.errors import OrchestratorError
from flowyml.runtime.orchestrators.kfp_spec import RUN_ID_PARAMETER, compile_spec, kfp_name
from flowyml.runtime.orchestrators.manifest import RunManifest

ENDPOINT_ENV = "FLOWYML_VERTEX_ENDPOINT"
SCHEDULE_PREFIX = "flowyml-"
_FINAL = {
    "PIPELINE_STATE_SUCCEEDED": RunStatus.COMPLETED,
    "PIPELINE_STATE_FAILED": RunStatus.FAILED,
    "PIPELINE_STATE_CANCELLED": RunStatus.CANCELLED,
}


def _client_kwargs(region: str) -> dict[str, Any]:
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return {
            "credentials": AnonymousCredentials(),
            "transport": "rest",
            "client_options": {"api_endpoint": endpoint},
        }
    return {"client_options": {"api_endpoint": f"{region}-aiplatform.googleapis.com"}}


class VertexEngine:
    """Vertex AI Pipelines for one bound stack (module docstring)."""

    kind = "vertex_ai"
    suffix = ".yaml"

    def __init__(self, bound: Any) -> None:
        declared = bound.declaration.orchestrator
        outputs = bound.outputs
        self.project = str(
            (outputs.get(PROJECT_ID) if outputs is not None else None) or declared.project_id
        )
        self.region = str(declared.region)
        self.service_account = outputs.get(SERVICE_ACCOUNT) if outputs is not None else None
        root = bound.artifact_store.root_uri
        if not root.startswith("gs://"):
            raise OrchestratorError(
                f"stack {bound.name}: Vertex AI Pipelines runs steps on Google's machines, which "
                f"cannot reach the artifact store {root}",
                hint=f"give stack {bound.name} a gs:// artifact store (GCPStack provisions one)",
            )
        self.pipeline_root = f"{root}/_vertex"
        self.parent = f"projects/{self.project}/locations/{self.region}"
        self._pipelines: Any = None
        self._schedules: Any = None

    # -- clients ------------------------------------------------------------------------------

    @property
    def pipelines(self) -> Any:
        """The ``PipelineServiceClient`` (created on first use)."""
        if self._pipelines is None:
            from google.cloud import aiplatform_v1

            self._pipelines = aiplatform_v1.PipelineServiceClient(**_client_kwargs(self.region))
        return self._pipelines

    @property
    def schedules(self) -> Any:
        """The ``ScheduleServiceClient`` (created on first use)."""
        if self._schedules is None:
            from google.cloud import aiplatform_v1

            self._schedules = aiplatform_v1.ScheduleServiceClient(**_client_kwargs(self.region))
        return self._schedules

    # -- the job ------------------------------------------------------------------------------

    def compile(self, manifest: RunManifest, manifest_uri: str, output: Path) -> Path:
        return compile_spec(manifest, manifest_uri, output, target="vertex_ai", provider="gcp")

    def job_request(
        self, artifact: Path, manifest: RunManifest, run_id: str, job_id: str | None
    ) -> Any:
        """The ``PipelineJob`` proto the SDK builds from the compiled spec (offline)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import aiplatform

        labels = {
            "flowyml-pipeline": kfp_name(manifest.pipeline)[:63],
            "flowyml-stack": kfp_name(manifest.stack)[:63],
        }
        if run_id:
            labels["flowyml-run"] = run_id[:63]
        job = aiplatform.PipelineJob(
            display_name=manifest.pipeline,
            template_path=str(artifact),
            job_id=job_id,
            pipeline_root=self.pipeline_root,
            parameter_values={RUN_ID_PARAMETER: run_id},
            enable_caching=False,
            labels=labels,
            # Building the request needs no credentials; the client below sends it with its own.
            credentials=AnonymousCredentials(),
            project=self.project,
            location=self.region,
        )
        resource = job._gca_resource
        if self.service_account:
            resource.service_account = str(self.service_account)
        return resource

    def submit(self, artifact: Path, manifest: RunManifest, run_id: str) -> str:
        job_id = f"{kfp_name(manifest.pipeline)[:80]}-{run_id[:12]}"
        request = self.job_request(artifact, manifest, run_id, job_id)
        created = self.pipelines.create_pipeline_job(
            parent=self.parent, pipeline_job=request, pipeline_job_id=job_id
        )
        return str(created.name)

    def state(self, handle: str) -> EngineState:
        job = self.pipelines.get_pipeline_job(name=handle)
        state = job.state.name
        tasks = {
            str(t.task_name): t.state.name
            for t in job.job_detail.task_details
            if t.task_name
            and not str(t.task_name).startswith(("flowyml-steps", kfp_name(job.display_name)))
        }
        message = job.error.message if job.error and job.error.message else None
        return EngineState(final=_FINAL.get(state), tasks=tasks, message=message)

    def cancel(self, handle: str) -> None:
        self.pipelines.cancel_pipeline_job(name=handle)

    # -- schedules ----------------------------------------------------------------------------

    def create_schedule(self, artifact: Path, manifest: RunManifest, cron: str) -> str:
        from google.cloud import aiplatform_v1

        request = self.job_request(artifact, manifest, "", None)
        schedule = aiplatform_v1.Schedule(
            display_name=SCHEDULE_PREFIX + manifest.pipeline,
            cron=cron,
            max_concurrent_run_count=1,
            create_pipeline_job_request=aiplatform_v1.CreatePipelineJobRequest(
                parent=self.parent, pipeline_job=request
            ),
        )
        created = self.schedules.create_schedule(parent=self.parent, schedule=schedule)
        return str(created.name)

    def list_schedules(self) -> list[ScheduleInfo]:
        found = []
        for schedule in self.schedules.list_schedules(parent=self.parent):
            name = str(schedule.display_name)
            if name.startswith(SCHEDULE_PREFIX):
                found.append(
                    ScheduleInfo(
                        str(schedule.name),
                        name[len(SCHEDULE_PREFIX) :],
                        str(schedule.cron),
                        schedule.state.name,
                    )
                )
        return found

    def delete_schedule(self, schedule_id: str) -> None:
        self.schedules.delete_schedule(name=schedule_id)


def create(bound: Any) -> VertexEngine:
    """The Vertex AI Pipelines engine of ``bound``."""
    return VertexEngine(bound)
