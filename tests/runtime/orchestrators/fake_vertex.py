"""A local stand-in for the Vertex AI API (REST, v1): what the real client library sends is
captured, and a job's tasks are run the way Vertex would run them, on this machine.

There is no Vertex AI emulator, and Vertex itself cannot be reached from here. This fake answers
the few calls flowyml makes (create / get / cancel a PipelineJob, create / list / delete a
Schedule) with the JSON shapes the API documents. When a job is first read after it was created
(``run_jobs=True``), it executes the job's pipeline spec as Vertex's machines would: every task's
container command (the flowyml entrypoint) with its placeholders filled in, its environment set,
in dependency order, the exit handler last; here as processes of this machine's Python instead of
containers, which is the one thing that differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeVertex:
    """The fake's state: every request, the jobs and schedules it holds."""

    run_jobs: bool = True
    hold: bool = False  # jobs stay RUNNING (until cancelled)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    ran: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""

    def run_job(self, job: dict[str, Any], parameter: str | None = None) -> str:
        """Run ``job``'s tasks (see the module docstring); returns the final state."""
        spec = job["pipelineSpec"]
        params = job.get("runtimeConfig", {}).get("parameterValues", {})
        run_id = params.get("flowyml_run_id", "") if parameter is None else parameter
        job_uuid = str(uuid.uuid4())
        inner = spec["components"]["comp-exit-handler-1"]["dag"]["tasks"]
        order: list[str] = []
        pending = dict(inner)
        while pending:
            for name, task in sorted(pending.items()):
                if all(dep in order for dep in task.get("dependentTasks", [])):
                    order.append(name)
                    del pending[name]
                    break
        states: dict[str, str] = {}
        failed = False
        for name in [*order, "flowyml-finalize"]:
            task = inner.get(name) or spec["root"]["dag"]["tasks"][name]
            if failed and name != "flowyml-finalize":
                states[name] = "SKIPPED"
                continue
            executor = spec["deploymentSpec"]["executors"][
                spec["components"][task["componentRef"]["name"]]["executorLabel"]
            ]["container"]
            args = [
                a.replace("{{$.inputs.parameters['run_id']}}", run_id).replace(
                    "{{$.pipeline_job_uuid}}", job_uuid
                )
                for a in executor["args"]
            ]
            env = dict(os.environ) | {e["name"]: e["value"] for e in executor.get("env", [])}
            assert executor["command"] == ["python3", "-m", "flowyml.entrypoint"]
            attempts = 1 + int(task.get("retryPolicy", {}).get("maxRetryCount", 0))
            for _ in range(attempts):
                done = subprocess.run(
                    [sys.executable, "-m", "flowyml.entrypoint", *args],
                    env=env,
                    capture_output=True,
                )
                if done.returncode == 0:
                    break
            states[name] = "SUCCEEDED" if done.returncode == 0 else "FAILED"
            failed = failed or done.returncode != 0
            self.ran.setdefault(job.get("name", "scheduled"), []).append(name)
        job["jobDetail"] = {"taskDetails": [{"taskName": n, "state": s} for n, s in states.items()]}
        return "PIPELINE_STATE_FAILED" if failed else "PIPELINE_STATE_SUCCEEDED"


def _handler(fake: FakeVertex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _send(self, data: dict[str, Any], code: int = 200) -> None:
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self._body()
            fake.requests.append(("POST", self.path, body))
            path = parts.path.removeprefix("/v1/")
            if path.endswith("/pipelineJobs"):
                job_id = parse_qs(parts.query)["pipelineJobId"][0]
                job = dict(body, name=f"{path}/{job_id}", state="PIPELINE_STATE_PENDING")
                fake.jobs[job["name"]] = job
                self._send(job)
            elif path.endswith(":cancel"):
                name = path.removesuffix(":cancel")
                fake.jobs[name]["state"] = "PIPELINE_STATE_CANCELLED"
                self._send({})
            elif path.endswith("/schedules"):
                name = f"{path}/{len(fake.schedules) + 1}"
                schedule = dict(body, name=name, state="ACTIVE")
                fake.schedules[name] = schedule
                self._send(schedule)
            else:
                self._send({"error": {"code": 404, "message": path}}, 404)

        def do_GET(self) -> None:
            fake.requests.append(("GET", self.path, {}))
            path = urlsplit(self.path).path.removeprefix("/v1/")
            if path in fake.jobs:
                job = fake.jobs[path]
                if job["state"] == "PIPELINE_STATE_PENDING":
                    job["state"] = "PIPELINE_STATE_RUNNING"
                elif job["state"] == "PIPELINE_STATE_RUNNING" and fake.run_jobs and not fake.hold:
                    job["state"] = fake.run_job(job)
                self._send(job)
            elif path.endswith("/schedules"):
                self._send({"schedules": list(fake.schedules.values())})
            else:
                self._send({"error": {"code": 404, "message": path}}, 404)

        def do_DELETE(self) -> None:
            fake.requests.append(("DELETE", self.path, {}))
            path = urlsplit(self.path).path.removeprefix("/v1/")
            fake.schedules.pop(path, None)
            self._send({"name": f"{path}/operations/1", "done": True})

    return Handler


def start(port: int) -> tuple[FakeVertex, ThreadingHTTPServer]:
    """Serve a fresh fake on 127.0.0.1:``port`` in a thread."""
    fake = FakeVertex(url=f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
