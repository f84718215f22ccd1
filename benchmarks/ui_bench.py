"""Dashboard benchmarks (registered in ``run.py``): start-up and the runs page at 10,000 runs.

A tmp project's SQLite store is filled with 10,000 runs of 4 steps each (bulk inserts through the
store's own tables, after the store created and migrated the database), then a real
``flowyml ui`` process serves it. Times are wall times of HTTP requests from this process over
loopback, so they include the server's whole work for the page: the query, the cost of the 50
runs shown, the JSON and the HTML.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

RUNS = 10_000
STEPS = ("load", "split", "train", "evaluate")


def _fill(db: Path) -> None:
    from flowyml.runtime.metadata import SqlMetadataStore
    from flowyml.runtime.metadata.schema import pipelines, runs, step_runs

    store = SqlMetadataStore(f"sqlite:///{db}")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    names = [f"pipeline-{i}" for i in range(8)]
    run_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    for i in range(RUNS):
        run_id = uuid.UUID(int=i + 1).hex
        began = start + timedelta(minutes=i)
        status = "failed" if i % 17 == 0 else "completed"
        run_rows.append(
            {
                "run_id": run_id,
                "pipeline": names[i % len(names)],
                "status": status,
                "started_at": began,
                "ended_at": began + timedelta(seconds=42),
                "stack": "local",
                "params": {"epochs": i % 50, "lr": 0.01},
                "error": None,
            }
        )
        for j, name in enumerate(STEPS):
            step_rows.append(
                {
                    "run_id": run_id,
                    "name": name,
                    "status": "failed" if status == "failed" and j == 3 else "completed",
                    "started_at": began + timedelta(seconds=10 * j),
                    "ended_at": began + timedelta(seconds=10 * j + 9),
                    "duration": 9.0,
                    "cache_key": None,
                    "cached": False,
                    "error": None,
                    "stack": "local",
                    "resources": None,
                    "attempts": 1,
                    "upstream": list(STEPS[:j][-1:]),
                }
            )
    with store.engine.begin() as connection:
        connection.execute(pipelines.insert(), [{"name": n, "created_at": start} for n in names])
        connection.execute(runs.insert(), run_rows)
        connection.execute(step_runs.insert(), step_rows)
    store.close()


def _get(url: str) -> float:
    begin = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        assert response.status == 200
    return time.perf_counter() - begin


def rows(repeat: int) -> list[dict[str, Any]]:
    """Benchmark rows: ``name``, ``value``, ``unit``, ``target``, ``detail``."""
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-ui-") as tmp:
        project = Path(tmp)
        (project / "flowyml.yaml").write_text(
            "default_stack: local\nstacks:\n  local:\n    type: local\n"
            "    artifact_path: .flowyml/artifacts\n    metadata_path: .flowyml/metadata.db\n"
        )
        _fill(project / ".flowyml" / "metadata.db")
        env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
        starts: list[float] = []
        firsts: list[float] = []
        for attempt in range(max(3, repeat)):
            began = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "flowyml.cli", "ui", "--port", "0", "--no-open"],
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert process.stdout is not None
            url = process.stdout.readline().split()[2]
            while True:
                try:
                    _get(url + "static/app.css")
                    break
                except OSError:
                    time.sleep(0.005)
            starts.append(time.perf_counter() - began)
            _get(url + "api/runs")
            firsts.append(time.perf_counter() - began)
            if attempt < max(3, repeat) - 1:
                process.terminate()
                process.wait()
        try:
            _get(url)  # warm: the first request opens the store
            n = max(10, repeat * 4)
            page = [_get(url) for _ in range(n)]
            deep = [_get(url + f"api/runs?offset={RUNS - 50}") for _ in range(n)]
            narrow = [_get(url + "api/runs?pipeline=pipeline-3&status=failed") for _ in range(n)]
        finally:
            process.terminate()
            process.wait()
    return [
        {
            "name": "`flowyml ui` start until it serves",
            "value": statistics.median(starts),
            "unit": "s",
            "target": 0.5,
            "detail": f"median of {len(starts)}; min {min(starts):.3f} s; process start to a page asset",
        },
        {
            "name": f"`flowyml ui` start until its first runs answer, {RUNS:,} runs",
            "value": statistics.median(firsts),
            "unit": "s",
            "target": 1.0,
            "detail": f"median of {len(firsts)}; store opened (SQLAlchemy, migration check) after listening",
        },
        {
            "name": f"runs page (HTML + first 50 runs, costs), {RUNS:,} runs",
            "value": statistics.median(page) * 1000,
            "unit": "ms",
            "target": 300.0,
            "detail": f"median of {n}; max {max(page) * 1000:.1f} ms; SQLite, over loopback",
        },
        {
            "name": f"/api/runs last page (offset {RUNS - 50:,})",
            "value": statistics.median(deep) * 1000,
            "unit": "ms",
            "target": 300.0,
            "detail": f"median of {n}; max {max(deep) * 1000:.1f} ms",
        },
        {
            "name": "/api/runs filtered (pipeline + status)",
            "value": statistics.median(narrow) * 1000,
            "unit": "ms",
            "target": 300.0,
            "detail": f"median of {n}; max {max(narrow) * 1000:.1f} ms",
        },
    ]


if __name__ == "__main__":
    for row in rows(3):
        print(row)
