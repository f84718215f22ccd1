"""Fixtures of the dashboard tests: a tmp project whose runs were made by real pipelines, and a
real ``flowyml ui`` server process over it.

The project declares the local stack (SQLite), a custom stack whose PostgreSQL metadata store
takes its password from ``${UI_TEST_PASSWORD}`` (the local server uses trust auth, so any
password connects), and the repository's production (GCP) stack for the priced offline plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from flowyml.core.outputs import StackOutputs
from flowyml.provision.state import save_outputs

from . import pipelines

REPO = Path(__file__).resolve().parents[2]
MYSQL_URL = os.environ.get("FLOWYML_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
PASSWORD = "ui-" + uuid.uuid4().hex + "-pw"
OUTPUT_SECRET = "out-" + uuid.uuid4().hex
POSTGRES_URL = os.environ.get(
    "FLOWYML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def env_for(project: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project), "UI_TEST_PASSWORD": PASSWORD}
    for name in ("FLOWYML_STACK", "ENVIRONMENT", "FLOWYML_UI_TOKEN"):
        env.pop(name, None)
    env.update(extra)
    return env


def flowyml(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowyml.cli", *args],
        cwd=project,
        env=env_for(project, **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )


def write_project(
    root: Path, pg_database: str | None = None, mysql_database: str | None = None
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    pg = ""
    if pg_database is not None:
        url = sa.make_url(POSTGRES_URL)
        pg = f"""
  pg:
    type: custom
    executor: {{kind: local}}
    artifact_store: {{kind: local, path: .flowyml/pg-artifacts}}
    metadata_store:
      kind: postgresql
      host: {url.host}
      port: {url.port or 5432}
      database: {pg_database}
      user: {url.username}
      password: "${{UI_TEST_PASSWORD}}"
"""
    if mysql_database is not None:
        url = sa.make_url(MYSQL_URL)
        pg += f"""
  my:
    type: custom
    executor: {{kind: local}}
    artifact_store: {{kind: local, path: .flowyml/my-artifacts}}
    metadata_store:
      kind: mysql
      host: {url.host}
      port: {url.port or 3306}
      database: {mysql_database}
      user: {url.username}
"""
    (root / "flowyml.yaml").write_text(
        "default_stack: local\nstacks:\n  local:\n    type: local\n"
        "    artifact_path: .flowyml/artifacts\n    metadata_path: .flowyml/metadata.db\n" + pg
    )
    (root / "stacks").mkdir(exist_ok=True)
    shutil.copy(REPO / "stacks" / "production.yaml", root / "stacks" / "production.yaml")
    (root / "ok.py").write_text(pipelines.OK)
    (root / "failing.py").write_text(pipelines.FAILING)
    (root / "gated.py").write_text(pipelines.GATED)
    return root


def record_runs(project: Path, stack: str | None = None) -> dict[str, str]:
    """Three real runs: completed, the same again (served from the cache), failed."""
    extra = ["--stack", stack] if stack else []
    ids = {}
    for label, args in (
        ("completed", ["ok.py", "--param", "n=10"]),
        ("cached", ["ok.py", "--param", "n=10"]),
        ("failed", ["failing.py"]),
    ):
        proc = flowyml(project, "run", *args, *extra, "--json")
        # The steps print to stdout too: the JSON document starts on a line of its own.
        lines = proc.stdout.splitlines()
        assert "{" in lines, (proc.stdout, proc.stderr)
        ids[label] = json.loads("\n".join(lines[lines.index("{") :]))["run_id"]
    return ids


@dataclass
class Server:
    """A running ``flowyml ui`` process."""

    process: subprocess.Popen[str]
    url: str
    token: str | None
    project: Path

    def get(self, path: str, token: str | None = None) -> tuple[int, str, dict[str, str]]:
        request = urllib.request.Request(self.url.rstrip("/") + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                return (
                    response.status,
                    response.read().decode("utf-8", "replace"),
                    dict(response.headers),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def start_server(project: Path, *args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "flowyml.cli", "ui", "--port", "0", "--no-open", *args],
        cwd=project,
        env=env_for(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"(http://\S+/)", first)
    if match is None:
        process.kill()
        raise AssertionError(
            f"no URL in {first!r}: {process.stderr.read() if process.stderr else ''}"
        )
    token = None
    url = match.group(1)
    if "0.0.0.0" in url or "token" in first:
        line = process.stdout.readline()
        token = line.split()[1]
    # Requests go to the loopback address whatever the bind address is.
    url = url.replace("0.0.0.0", "127.0.0.1")
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url.rstrip("/") + "/static/app.css", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)
    return Server(process, url, token, project)


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def sqlite_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    project = write_project(tmp_path_factory.mktemp("ui-sqlite"))
    return project, record_runs(project)


@pytest.fixture(scope="session")
def sqlite_server(sqlite_project: tuple[Path, dict[str, str]]) -> Iterator[Server]:
    server = start_server(sqlite_project[0])
    yield server
    stop(server)


@pytest.fixture(scope="session")
def pg_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"flowyml_ui_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not answering ({exc.orig}); .ci/run starts it",
            pytrace=False,
        )
    project = write_project(tmp_path_factory.mktemp("ui-pg"), pg_database=name)
    # Outputs as `stack up production` records them: the database URL is a secret output
    # (written encrypted by the real state module; nothing ever connects to it).
    save_outputs(
        StackOutputs(
            stack="production",
            values={
                "artifact_uri": "gs://my-artifacts",
                "metadata_url": f"postgresql+psycopg://flowyml:{OUTPUT_SECRET}@cloudsql/flowyml",
            },
            secrets=frozenset({"metadata_url"}),
        ),
        project / ".flowyml",
    )
    try:
        yield project, record_runs(project, stack="pg")
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture(scope="session")
def pg_server(pg_project: tuple[Path, dict[str, str]]) -> Iterator[Server]:
    server = start_server(pg_project[0], "--stack", "pg")
    yield server
    stop(server)


@pytest.fixture(scope="session")
def mysql_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, str]]]:
    """MariaDB as the local server runs it (root, no password: no secret to test here)."""
    admin = sa.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    name = f"flowyml_ui_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"MariaDB at {MYSQL_URL} is not answering ({exc.orig}); .ci/run starts it",
            pytrace=False,
        )
    project = write_project(tmp_path_factory.mktemp("ui-mysql"), mysql_database=name)
    try:
        ids = record_runs(project, stack="my")
        server = start_server(project, "--stack", "my")
        try:
            yield server, ids
        finally:
            stop(server)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
