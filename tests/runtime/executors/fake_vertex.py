"""A local stand-in for the Vertex AI JobService REST API that runs each job on real Docker.

Nothing on this machine can reach Google, so the real ``google-cloud-aiplatform`` client (REST
transport, anonymous credentials) talks to this server instead. It serves the three calls the
executor makes, in the API's own JSON shapes (``v1`` paths, camelCase bodies):
``POST .../customJobs`` (recorded, then the worker pool's container is started on the Docker
engine with its command, args and env, on the host network), ``GET .../customJobs/ID`` (state
PENDING -> RUNNING -> SUCCEEDED / FAILED with the replica's exit status, as Vertex words it) and
``POST .../customJobs/ID:cancel`` (the container is killed, the job ends CANCELLED).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LABEL = "org.flowyml.test.vertex"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class FakeJob:
    name: str
    body: dict[str, Any]
    state: str = "JOB_STATE_PENDING"
    error: dict[str, Any] | None = None
    container: Any = None
    calls: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        out = {**self.body, "name": self.name, "state": self.state, "createTime": _now()}
        if self.error:
            out["error"] = self.error
        return out


class FakeVertex:
    """The server (module docstring); ``calls`` lists ``(method, path)`` of every request."""

    def __init__(self, docker_client: Any) -> None:
        self.docker = docker_client
        self.jobs: dict[str, FakeJob] = {}
        self.calls: list[tuple[str, str]] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?", 1)[0]
                fake.calls.append(("POST", path))
                if path.endswith(":cancel"):
                    fake.cancel(path.removeprefix("/v1/").removesuffix(":cancel"))
                    self._send(200, {})
                elif path.endswith("/customJobs"):
                    self._send(200, fake.create(path.removeprefix("/v1/"), body))
                else:
                    self._send(404, {"error": {"code": 404, "message": path}})

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                fake.calls.append(("GET", path))
                job = fake.jobs.get(path.removeprefix("/v1/"))
                if job is None:
                    self._send(404, {"error": {"code": 404, "message": "not found"}})
                else:
                    fake.advance(job)
                    self._send(200, job.view())

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeVertex:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        for job in self.jobs.values():
            self._remove(job)

    # -- jobs ---------------------------------------------------------------------------------

    def create(self, parent: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            name = f"{parent}/{len(self.jobs) + 1000}"
            job = FakeJob(name, body)
            self.jobs[name] = job
            self.requests.append(body)
        pool = body["jobSpec"]["workerPoolSpecs"][0]
        spec = pool["containerSpec"]
        env = {e["name"]: e["value"] for e in spec.get("env") or []}
        job.container = self.docker.containers.run(
            spec["imageUri"],
            [*spec.get("command", []), *spec.get("args", [])],
            environment={**env, "HOME": "/tmp"},
            network_mode="host",
            labels={LABEL: name},
            detach=True,
        )
        job.state = "JOB_STATE_RUNNING"
        return job.view()

    def advance(self, job: FakeJob) -> None:
        if job.state != "JOB_STATE_RUNNING" or job.container is None:
            return
        job.container.reload()
        state = job.container.attrs["State"]
        if state["Status"] not in {"exited", "dead"}:
            return
        code = int(state["ExitCode"])
        if code == 0:
            job.state = "JOB_STATE_SUCCEEDED"
        else:
            job.state = "JOB_STATE_FAILED"
            job.error = {
                "code": 3,
                "message": f"The replica workerpool0-0 exited with a non-zero status of {code}. "
                "To find out more about why your job exited please check the logs: ...",
            }
        self._remove(job)

    def cancel(self, name: str) -> None:
        job = self.jobs.get(name)
        if job is None:
            return
        self._remove(job)
        if job.state not in {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"}:
            job.state = "JOB_STATE_CANCELLED"

    @staticmethod
    def _remove(job: FakeJob) -> None:
        if job.container is not None:
            with contextlib.suppress(Exception):
                job.container.remove(force=True)
            job.container = None

    def leftover_containers(self) -> list[Any]:
        return list(self.docker.containers.list(all=True, filters={"label": LABEL}))
