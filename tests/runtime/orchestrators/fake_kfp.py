"""A local stand-in for the Kubeflow Pipelines API (REST, v2beta1) for the real ``kfp.Client``.

No KFP server can run here (it needs a cluster). This fake answers what flowyml calls: find or
create an experiment, create / get / terminate a run, create / list / delete a recurring run,
with the JSON shapes of KFP's v2beta1 API. A run's tasks are executed on its second read the way
the Vertex fake does (``fake_vertex.FakeVertex.run_job``): each task's container command, as a
process of this machine's Python.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from runtime.orchestrators.fake_vertex import FakeVertex

API = "/apis/v2beta1"


@dataclass
class FakeKfp:
    """The fake's state."""

    hold: bool = False
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurring: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def execute(self, run: dict[str, Any]) -> None:
        spec = run["pipeline_spec"]
        spec = spec.get("pipeline_spec", spec)  # {pipeline_spec, platform_spec} when placed
        params = run.get("runtime_config", {}).get("parameters", {})
        job = {
            "pipelineSpec": spec,
            "runtimeConfig": {"parameterValues": params},
            "name": run["run_id"],
        }
        final = FakeVertex().run_job(job)
        run["state"] = "SUCCEEDED" if final.endswith("SUCCEEDED") else "FAILED"
        run["run_details"] = {
            "task_details": [
                {"display_name": t["taskName"], "state": t["state"]}
                for t in job["jobDetail"]["taskDetails"]
            ]
        }


def _handler(fake: FakeKfp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, data: dict[str, Any], code: int = 200) -> None:
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._body()
            fake.requests.append(("POST", self.path, body))
            if path == f"{API}/experiments":
                experiment = dict(body, experiment_id=str(uuid.uuid4()))
                fake.experiments[experiment["experiment_id"]] = experiment
                self._send(experiment)
            elif path == f"{API}/runs":
                run = dict(body, run_id=str(uuid.uuid4()), state="PENDING")
                fake.runs[run["run_id"]] = run
                self._send(run)
            elif path.endswith(":terminate"):
                run_id = path.removeprefix(f"{API}/runs/").removesuffix(":terminate")
                fake.runs[run_id]["state"] = "CANCELED"
                self._send({})
            elif path == f"{API}/recurringruns":
                made = dict(body, recurring_run_id=str(uuid.uuid4()), status="ENABLED")
                fake.recurring[made["recurring_run_id"]] = made
                self._send(made)
            else:
                self._send({"error": path}, 404)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            fake.requests.append(("GET", self.path, {}))
            if path == f"{API}/experiments":
                self._send(
                    {"experiments": list(fake.experiments.values())} if fake.experiments else {}
                )
            elif path.startswith(f"{API}/runs/"):
                run = fake.runs[path.removeprefix(f"{API}/runs/")]
                if run["state"] == "PENDING":
                    run["state"] = "RUNNING"
                elif run["state"] == "RUNNING" and not fake.hold:
                    fake.execute(run)
                self._send(run)
            elif path == f"{API}/recurringruns":
                self._send({"recurringRuns": list(fake.recurring.values())})
            else:
                self._send({"error": path}, 404)

        def do_DELETE(self) -> None:
            path = urlsplit(self.path).path
            fake.requests.append(("DELETE", self.path, {}))
            fake.recurring.pop(path.removeprefix(f"{API}/recurringruns/"), None)
            self._send({})

    return Handler


def start(port: int) -> tuple[FakeKfp, ThreadingHTTPServer]:
    """Serve a fresh fake on 127.0.0.1:``port`` in a thread."""
    fake = FakeKfp(url=f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
