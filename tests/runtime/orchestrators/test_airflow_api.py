"""Airflow through its REST API: a real Airflow 3 (api-server, scheduler, dag-processor; its own
virtualenv, as CI installs it) on 127.0.0.1, SQLite, LocalExecutor and the simple auth manager.
``flowyml run`` deploys the DAG, triggers it through ``/api/v2``, follows it and records it; Ctrl-C
marks the dag run failed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import refresh, run_orchestrated
from flowyml.runtime.orchestrators.errors import OrchestratorError
from flowyml.stacks.components import AirflowOrchestrator
from runtime.orchestrators.helpers import airflow_stack
from runtime.orchestrators.test_airflow import AIRFLOW

pytestmark = pytest.mark.slow
USER, PASSWORD = "flowyml", "airflow-test-pw"
PASSWORD_ENV = "FLOWYML_TEST_AIRFLOW_PASSWORD"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        for proc in procs:
            assert proc.poll() is None, f"an Airflow process exited: {proc.args}"
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as answer:
                health = json.loads(answer.read())
            last = str(health)
            if all(
                (health.get(part) or {}).get("status") == "healthy"
                for part in ("metadatabase", "scheduler", "dag_processor")
            ):
                return
        except OSError as error:
            last = str(error)
        time.sleep(0.5)
    raise AssertionError(f"Airflow was not healthy within {timeout_s}s: {last}")


@pytest.fixture(scope="module")
def airflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running Airflow 3 reading DAGs from a temp folder; its URL, that folder, its logs."""
    if not AIRFLOW.is_file():
        pytest.skip(f"Airflow is not installed at {AIRFLOW} (`bash .ci/run` makes its venv)")
    home = tmp_path_factory.mktemp("airflow-api")
    dags = home / "dags"
    dags.mkdir()
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}), encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home / "home"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__AUTH_MANAGER=(
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{url}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET="flowyml-test-jwt-secret-of-enough-length",
        AIRFLOW__API__SECRET_KEY="flowyml-test-secret-key",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="1",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="1",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__CORE__PARALLELISM="4",
    )
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True)
    logs = {name: home / f"{name}.log" for name in ("api-server", "scheduler", "dag-processor")}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, log in logs.items():
            extra = ["--host", "127.0.0.1", "--port", str(port)] if name == "api-server" else []
            procs.append(
                subprocess.Popen(
                    [str(AIRFLOW), name, *extra],
                    env=env,
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own group: every worker it forks is ended too
                )
            )
        _wait_healthy(url, procs, timeout_s=60)
        yield {"url": url, "dags": dags, "logs": logs}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _stack(project: Path, server: dict[str, Any], password: str = f"${{{PASSWORD_ENV}}}") -> Any:
    declared = AirflowOrchestrator(
        dag_folder=str(server["dags"]),
        api_url=server["url"],
        api_username=USER,
        api_password=password,
    )
    return airflow_stack(project).model_copy(update={"orchestrator": declared})


def _api(server: dict[str, Any], path: str) -> Any:
    token_request = urllib.request.Request(
        f"{server['url']}/auth/token",
        data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(token_request, timeout=10) as answer:
        token = json.loads(answer.read())["access_token"]
    request = urllib.request.Request(
        f"{server['url']}/api/v2/{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_a_run_is_triggered_through_the_api_followed_and_recorded_like_a_local_one(
    project: Path, airflow_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    stack = _stack(project, airflow_server)
    assert PASSWORD not in json.dumps(stack.to_dict(), default=str)
    bound = bind_stack(stack)
    lines: list[str] = []
    result = run_orchestrated(
        load_pipeline("pipelines.py:orchestrated"), bound, progress=lines.append, poll_s=0.5
    )
    log = "\n".join(lines)
    assert result.status is RunStatus.COMPLETED, (result.error, log)
    assert PASSWORD not in log
    (dag_run,) = _api(airflow_server, "dags/flowyml_orchestrated/dagRuns")["dag_runs"]
    assert dag_run["state"] == "success"
    assert dag_run["run_type"] == "manual"  # triggered through the API, not by a schedule
    assert dag_run["dag_run_id"].startswith("flowyml__")
    assert "report: success" in lines
    (record,) = bound.metadata_store.list_runs()
    assert record.run_id == result.run_id
    record = bound.metadata_store.get_run(result.run_id)
    assert record.status is RunStatus.COMPLETED and record.ended_at is not None
    steps = {s.name: s for s in record.steps}
    assert set(steps) == {"load", "total", "scale", "report"}
    assert {s.status for s in steps.values()} == {StepStatus.COMPLETED}
    assert steps["report"].details["engine_run"] == dag_run["dag_run_id"]
    report = bound.artifact_store.load(steps["report"].outputs["output"])
    local = load_pipeline("pipelines.py:orchestrated").run(
        stack=airflow_stack(project).model_copy(update={"orchestrator": None})
    )
    assert report["total"] == local["report"]["total"] == 45
    assert report["scaled_max"] == local["report"]["scaled_max"] == 45
    assert report["pid"] != os.getpid()  # ran in an Airflow task's process


def test_detach_returns_once_triggered_and_runs_show_brings_the_record_up_to_date(
    project: Path, airflow_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    (project / "short_pipeline.py").write_text(
        "from flowyml import Pipeline\n"
        "from pipelines import load\n"
        "with Pipeline('short_run', enable_cache=False) as short_run:\n"
        "    load()\n",
        encoding="utf-8",
    )
    bound = bind_stack(_stack(project, airflow_server))
    result = run_orchestrated(load_pipeline("short_pipeline.py:short_run"), bound, detach=True)
    assert result.status is RunStatus.RUNNING  # returned right after triggering
    (dag_run,) = _api(airflow_server, "dags/flowyml_short_run/dagRuns")["dag_runs"]
    assert dag_run["run_type"] == "manual"
    deadline = time.monotonic() + 60
    record = refresh(bound, result.run_id)  # what `flowyml runs show RUN` does
    while (record is None or record.status is RunStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.5)
        record = refresh(bound, result.run_id)
    assert record is not None and record.status is RunStatus.COMPLETED
    assert [s.status for s in record.steps] == [StepStatus.COMPLETED]
    assert len(bound.metadata_store.list_runs()) == 1  # one run, under the id the tasks use


def test_ctrl_c_marks_the_dag_run_failed(
    project: Path, airflow_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.runtime.orchestrators import airflow

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    (project / "slow_pipeline.py").write_text(
        "import time\n"
        "from flowyml import Pipeline, step\n"
        "@step\n"
        "def nap() -> int:\n"
        "    time.sleep(60)\n"
        "    return 1\n"
        "with Pipeline('slow_run', enable_cache=False) as slow_run:\n"
        "    nap()\n",
        encoding="utf-8",
    )
    bound = bind_stack(_stack(project, airflow_server))
    real_state = airflow.AirflowEngine.state

    def state(self: Any, handle: str) -> Any:
        seen = real_state(self, handle)
        if seen.tasks.get("nap") == "running":
            raise KeyboardInterrupt  # where a user's Ctrl-C lands: while following
        return seen

    monkeypatch.setattr(airflow.AirflowEngine, "state", state)
    with pytest.raises(KeyboardInterrupt):
        run_orchestrated(load_pipeline("slow_pipeline.py:slow_run"), bound, poll_s=0.5)
    (dag_run,) = _api(airflow_server, "dags/flowyml_slow_run/dagRuns")["dag_runs"]
    assert dag_run["state"] == "failed"
    (record,) = bound.metadata_store.list_runs()
    assert record.status is RunStatus.CANCELLED


def test_a_wrong_password_is_refused_in_one_line_without_echoing_it(
    project: Path, airflow_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    bound = bind_stack(_stack(project, airflow_server))
    with pytest.raises(OrchestratorError) as raised:
        run_orchestrated(load_pipeline("pipelines.py:orchestrated"), bound, poll_s=0.5)
    message = str(raised.value)
    assert "answered 401" in message and "api_password" in message and "To fix:" in message
    assert "not-the-password" not in message and len(message.splitlines()) == 1
