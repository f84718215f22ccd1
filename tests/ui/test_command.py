"""``flowyml ui`` as a command: refusals in one line before it starts, a project with no runs yet,
and no cloud SDK in the server process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import env_for, flowyml, start_server, stop, write_project


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_a_busy_port_and_an_unknown_stack_are_refused_before_starting(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = one_error_line(flowyml(project, "ui", "--port", str(port), "--no-open"))
    assert f"cannot listen on 127.0.0.1:{port}" in line and "To fix:" in line
    line = one_error_line(flowyml(project, "ui", "--stack", "nope", "--no-open"))
    assert "nope" in line


def test_a_project_without_runs_shows_none_then_the_first_one(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    server = start_server(project)
    try:
        status, body, _ = server.get("/api/runs")
        assert status == 200 and json.loads(body)["total"] == 0
        assert not (project / ".flowyml" / "metadata.db").exists()  # reading created nothing
        status, body, _ = server.get("/")
        assert status == 200 and '"total":0' in body
        assert flowyml(project, "run", "failing.py").returncode != 0  # a recorded failed run
        status, body, _ = server.get("/api/runs")
        runs = json.loads(body)["runs"]
        assert [r["status"] for r in runs] == ["failed"]
    finally:
        stop(server)


def test_the_server_imports_no_cloud_sdk(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    assert flowyml(project, "run", "failing.py").returncode != 0
    script = textwrap.dedent(
        """
        import json, sys
        from flowyml.stacks.registry import resolve_stack
        from flowyml.ui import queries, runs_view, stacks_view
        from flowyml.ui.server import create_app
        from flowyml.ui.source import Source

        source = Source(resolve_stack(None, None))
        create_app(source, port=1)
        source.warm()
        rows = runs_view.run_rows(source, queries.RunFilter(), 50, 0)
        runs_view.run_view(source, rows["runs"][0]["run_id"])
        stacks_view.stack_rows()
        sdks = ("pulumi", "pulumi_gcp", "pulumi_aws", "pulumi_kubernetes", "boto3", "botocore",
                "google.auth", "kubernetes", "docker", "gcsfs", "s3fs", "adlfs")
        # "google" and "google.cloud" alone are empty namespace packages that the installed
        # SDKs' *-nspkg.pth files import at interpreter start; a module below them is an SDK.
        found = [m for m in sdks if m in sys.modules]
        found += [m for m in sys.modules if m.startswith("google.cloud.")]
        print(json.dumps(sorted(found)))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project,
        env=env_for(project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
