"""A small client of Airflow 3's REST API (``/api/v2``), over ``urllib``.

Authentication is Airflow 3's: a JWT from ``POST /auth/token`` for the declared user (the simple
auth manager, and any auth manager serving that endpoint), fetched on first use and again once
when the server answers 401. The password is revealed only to build that request; it is never
logged, and no error message carries it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from flowyml.runtime.orchestrators.errors import OrchestratorError

TIMEOUT_S = 30.0


class AirflowApi:
    """Calls to one Airflow API server, as one user (module docstring)."""

    def __init__(self, stack: str, url: str, username: str | None, password: Any) -> None:
        self.stack = stack
        self.url = url.rstrip("/")
        self.username = username
        self._password = password  # a SecretStr: revealed only in _token()
        self._jwt: str | None = None

    def _token(self) -> str | None:
        if not self.username:
            return None
        from flowyml.stacks.secret_refs import reveal

        body = {"username": self.username, "password": reveal(self._password, "api_password")}
        answer = self._send("POST", "/auth/token", body, token=None)
        return str(answer["access_token"])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``method`` ``/api/v2/<path>`` with a JSON ``body``; returns the decoded answer."""
        if self._jwt is None:
            self._jwt = self._token()
        try:
            return self._send(method, f"/api/v2/{path}", body, token=self._jwt)
        except _Unauthorized:
            self._jwt = self._token()
            return self._send(method, f"/api/v2/{path}", body, token=self._jwt)

    def _send(self, method: str, path: str, body: dict[str, Any] | None, token: str | None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:300]
            if error.code == 401 and path != "/auth/token":
                raise _Unauthorized() from None
            if error.code == 404:
                raise NotFound(path) from None
            hint = (
                f"check api_username / api_password of stack {self.stack}"
                if error.code in (401, 403)
                else "see the Airflow API server's log"
            )
            raise OrchestratorError(
                f"stack {self.stack}: Airflow API {method} {path} answered {error.code}: {detail}",
                hint=hint,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise OrchestratorError(
                f"stack {self.stack}: cannot reach the Airflow API at {self.url} ({reason})",
                hint=f"start Airflow's API server there or fix api_url of stack {self.stack}",
            ) from None
        return json.loads(raw) if raw else None

    # -- what the engine needs ----------------------------------------------------------------

    def wait_parsed(self, dag: str, text: str, timeout_s: float, poll_s: float = 1.0) -> None:
        """Block until Airflow has parsed the DAG file whose content is ``text``."""
        deadline = time.monotonic() + timeout_s
        quoted = urllib.parse.quote(dag, safe="")
        while True:
            try:
                source = self.call("GET", f"dagSources/{quoted}")
                if isinstance(source, dict) and source.get("content") == text:
                    return
            except NotFound:
                pass
            if time.monotonic() > deadline:
                errors = self.call("GET", "importErrors").get("import_errors", [])
                mine = [e for e in errors if str(e.get("filename", "")).endswith(f"/{dag}.py")]
                why = f": import error {mine[0].get('stack_trace', '')[-300:]}" if mine else ""
                raise OrchestratorError(
                    f"stack {self.stack}: Airflow did not parse DAG {dag} within "
                    f"{timeout_s:.0f}s{why}",
                    hint="check that Airflow's dag-processor runs and reads the stack's "
                    "dag_folder (Airflow's dag_processor.refresh_interval sets how soon "
                    "a new file is seen)",
                )
            time.sleep(poll_s)

    def trigger(self, dag: str, dag_run_id: str) -> None:
        """Unpause ``dag`` and start one run of it named ``dag_run_id``."""
        quoted = urllib.parse.quote(dag, safe="")
        self.call("PATCH", f"dags/{quoted}", {"is_paused": False})
        self.call(
            "POST",
            f"dags/{quoted}/dagRuns",
            {"dag_run_id": dag_run_id, "logical_date": None, "conf": {}},
        )

    def run(self, dag: str, dag_run_id: str) -> tuple[str, dict[str, str]]:
        """The dag run's state and each task's (``none`` for a task not scheduled yet)."""
        base = f"dags/{urllib.parse.quote(dag, safe='')}/dagRuns/{urllib.parse.quote(dag_run_id)}"
        run = self.call("GET", base)
        tasks = self.call("GET", f"{base}/taskInstances")
        states = {
            str(t["task_id"]): str(t.get("state") or "none")
            for t in tasks.get("task_instances", [])
        }
        return str(run.get("state")), states

    def fail(self, dag: str, dag_run_id: str) -> None:
        """Mark the dag run failed (Airflow stops its running tasks)."""
        base = f"dags/{urllib.parse.quote(dag, safe='')}/dagRuns/{urllib.parse.quote(dag_run_id)}"
        self.call("PATCH", base, {"state": "failed"})


class NotFound(OrchestratorError):
    """The API answered 404."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Airflow API: {path} not found")


class _Unauthorized(Exception):
    """The API answered 401 (the token expired): fetch another once."""
