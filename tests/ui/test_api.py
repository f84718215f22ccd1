"""The dashboard's JSON API over real runs, on SQLite and on the real PostgreSQL, through a real
``flowyml ui`` process; and that no response ever carries a secret in clear."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .conftest import OUTPUT_SECRET, PASSWORD, Server

Project = tuple[Path, dict[str, str]]


def api(server: Server, path: str) -> dict:
    status, body, headers = server.get(path)
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    return json.loads(body)


def check_runs_api(server: Server, ids: dict[str, str], stack: str) -> None:
    listed = api(server, "/api/runs")
    assert listed["total"] == 3
    assert [r["run_id"] for r in listed["runs"]] == [ids["failed"], ids["cached"], ids["completed"]]
    rows = {r["run_id"]: r for r in listed["runs"]}
    assert rows[ids["completed"]]["params"] == {"n": 10}
    assert rows[ids["completed"]]["steps"] == {"completed": 4}
    assert rows[ids["cached"]]["steps"] == {"cached": 4}
    assert rows[ids["failed"]]["steps"] == {"completed": 1, "failed": 1, "skipped": 1}
    assert rows[ids["completed"]]["stack"] == stack
    assert rows[ids["completed"]]["estimated_cost_usd"] is not None  # local executor: $0, priced
    assert listed["choices"]["pipelines"] == ["demo", "failing"]

    failed_only = api(server, "/api/runs?status=failed")
    assert [r["run_id"] for r in failed_only["runs"]] == [ids["failed"]]
    assert api(server, "/api/runs?pipeline=demo")["total"] == 2
    assert api(server, f"/api/runs?stack={stack}")["total"] == 3
    assert api(server, "/api/runs?stack=nowhere")["total"] == 0
    second_page = api(server, "/api/runs?limit=2&offset=2")
    assert [r["run_id"] for r in second_page["runs"]] == [ids["completed"]]

    run = api(server, f"/api/runs/{ids['failed']}")
    statuses = {n["id"]: n["status"] for n in run["graph"]["nodes"]}
    assert statuses == {"prepare": "completed", "explode": "failed", "after": "skipped"}
    assert {(e["source"], e["target"]) for e in run["graph"]["edges"]} == {
        ("prepare", "explode"),
        ("explode", "after"),
    }
    explode = next(s for s in run["steps"] if s["name"] == "explode")
    assert "ValueError: bad value 3" in explode["error"]
    assert explode["executor"] == "local"
    assert explode["stack"] == stack

    cached = api(server, f"/api/runs/{ids['cached'][:10]}")  # an id prefix works too
    assert all(s["cached"] and s["status"] == "cached" for s in cached["steps"])
    assert all(s["cache_key"] for s in cached["steps"])


def check_step_api(server: Server, ids: dict[str, str]) -> None:
    step = api(server, f"/api/runs/{ids['completed']}/steps/report")
    assert step["outputs"]["output"]["preview"] == {
        "kind": "value",
        "value": {"rows": 10, "total": 66.0},
    }
    frame = step["inputs"]["df"]["preview"]
    assert frame["kind"] == "dataframe" and frame["shape"] == [10, 2]
    assert frame["columns"] == ["x", "square"] and frame["head"][3] == [3, 9]
    matrix = step["inputs"]["m"]["preview"]
    assert (matrix["kind"], matrix["shape"], matrix["dtype"]) == ("array", [3, 4], "float32")

    ref = step["outputs"]["output"]
    assert ref["id"] == hashlib.sha256(ref["uri"].encode()).hexdigest()
    status, body, headers = server.get(f"/api/artifacts/{ref['id']}/download")
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert json.loads(body) == {"rows": 10, "total": 66.0}
    assert Path(ref["uri"].removeprefix("file://")).read_text() == body
    described = api(server, f"/api/artifacts/{ref['id']}")
    assert described["producer"] == {
        "run_id": ids["completed"],
        "step": "report",
        "output": "output",
    }


def check_logs(server: Server, ids: dict[str, str]) -> None:
    logs = api(server, f"/api/runs/{ids['completed']}/steps/load/logs")
    assert "loading 10 numbers" in logs["text"]
    assert logs["truncated"] is False
    failed_logs = api(server, f"/api/runs/{ids['failed']}/steps/explode/logs")
    assert "about to fail" in failed_logs["text"]
    # A cached step ran nothing: it has no log of its own.
    assert api(server, f"/api/runs/{ids['cached']}/steps/load/logs")["text"] is None


def check_compare_and_errors(server: Server, ids: dict[str, str]) -> None:
    compared = api(server, f"/api/compare?a={ids['completed']}&b={ids['cached']}")
    assert compared["params"] == [{"name": "n", "a": 10, "b": 10, "same": True}]
    report = next(s for s in compared["steps"] if s["name"] == "report")
    assert report["a"]["status"] == "completed" and report["b"]["status"] == "cached"
    assert report["outputs"][0]["same"] is True  # the cached run reused the very same artifact

    status, body, _ = server.get(f"/api/compare?a={ids['completed']}&b={ids['failed']}")
    assert status == 400 and "different pipelines" in json.loads(body)["error"]
    for path in (
        "/api/runs/nope",
        f"/api/runs/{ids['failed']}/steps/nope",
        "/api/artifacts/00",
        "/api/stacks/nope",
    ):
        status, body, _ = server.get(path)
        assert status == 404, (path, body)
        assert json.loads(body)["error"]


def test_api_on_sqlite(sqlite_server: Server, sqlite_project: Project) -> None:
    ids = sqlite_project[1]
    health = api(sqlite_server, "/api/health")
    assert health["stack"] == "local" and health["store"].startswith("sqlite:///")
    check_runs_api(sqlite_server, ids, "local")
    check_step_api(sqlite_server, ids)
    check_compare_and_errors(sqlite_server, ids)


def test_logs_on_sqlite(sqlite_server: Server, sqlite_project: Project) -> None:
    check_logs(sqlite_server, sqlite_project[1])


def test_api_on_postgresql(pg_server: Server, pg_project: Project) -> None:
    ids = pg_project[1]
    health = api(pg_server, "/api/health")
    assert health["stack"] == "pg"
    assert health["store"].startswith("postgresql+psycopg://") and "***" in health["store"]
    check_runs_api(pg_server, ids, "pg")
    check_step_api(pg_server, ids)
    check_compare_and_errors(pg_server, ids)


def test_api_on_mysql(mysql_server: tuple[Server, dict[str, str]]) -> None:
    server, ids = mysql_server
    assert api(server, "/api/health")["store"].startswith("mysql+pymysql://")
    check_runs_api(server, ids, "my")
    check_step_api(server, ids)
    check_compare_and_errors(server, ids)


def test_stacks_and_the_priced_plan(sqlite_server: Server) -> None:
    stacks = {s["name"]: s for s in api(sqlite_server, "/api/stacks")["stacks"]}
    assert stacks["local"]["provisioned"] is True
    assert stacks["production"]["provisioned"] is False
    assert {c["role"]: c["kind"] for c in stacks["production"]["components"]}[
        "artifact_store"
    ] == "gcs"

    plan = api(sqlite_server, "/api/stacks/production/plan")
    assert plan["plan"]["engine"] == "offline" and plan["plan"]["summary"]["create"] > 0
    costs = plan["costs"]
    assert float(costs["baseline_monthly"]) == 0 and float(costs["new_monthly"]) > 0
    priced = [
        r for r in plan["plan"]["resource_changes"] if r["cost_after"] and r["cost_after"]["priced"]
    ]
    assert sum(float(r["cost_after"]["monthly"] or 0) for r in priced) == pytest.approx(
        float(costs["new_monthly"])
    )
    assert "production" in plan["text"]
    # The same plan again, until a refresh is asked for.
    assert api(sqlite_server, "/api/stacks/production/plan")["planned_at"] == plan["planned_at"]
    assert (
        api(sqlite_server, "/api/stacks/production/plan?refresh=1")["planned_at"]
        != plan["planned_at"]
    )

    status, _body, _ = sqlite_server.get("/api/stacks/pg/plan")
    assert status == 404  # not declared in this project


def _every_response(server: Server, ids: dict[str, str]) -> list[tuple[str, str]]:
    paths = ["/", "/stacks", "/api/health", "/api/runs", "/api/stacks"]
    for stack in [s["name"] for s in api(server, "/api/stacks")["stacks"]]:
        paths += [f"/stacks/{stack}", f"/api/stacks/{stack}", f"/api/stacks/{stack}/plan"]
    for run_id in ids.values():
        paths += [f"/runs/{run_id}", f"/api/runs/{run_id}"]
        for step in api(server, f"/api/runs/{run_id}")["steps"]:
            base = f"/api/runs/{run_id}/steps/{step['name']}"
            paths += [base, base + "/logs"]
    paths.append(f"/compare?a={ids['completed']}&b={ids['cached']}")
    found = []
    for path in paths:
        status, body, _ = server.get(path)
        assert status in (200, 400), (path, status, body)
        found.append((path, body))
    return found


def test_no_secret_in_any_page_or_response(pg_server: Server, pg_project: Project) -> None:
    """The pg stack's password is a ``${VAR}``; runs were recorded through a URL carrying it, and
    a step printed it to its log. No page and no API answer may hold it."""
    responses = _every_response(pg_server, pg_project[1])
    assert len(responses) > 30
    leaks = [path for path, body in responses if PASSWORD in body or OUTPUT_SECRET in body]
    assert leaks == []
    production = json.loads(dict(responses)["/api/stacks/production"])
    assert production["provisioned"] is True
    assert production["outputs"] == {
        "artifact_uri": "gs://my-artifacts",
        "metadata_url": "[secret]",
    }
    logs = dict(responses)[f"/api/runs/{pg_project[1]['completed']}/steps/report/logs"]
    assert "connecting with [secret]" in json.loads(logs)["text"]
    stack = json.loads(dict(responses)["/api/stacks/pg"])
    assert stack["declaration"]["metadata_store"]["password"] == "${UI_TEST_PASSWORD}"
