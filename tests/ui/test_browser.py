"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

Screenshots go to ``.ci/artifacts/ui/`` (kept by CI as artifacts; gitignored). The browser is the
system's ``/usr/bin/chromium`` (``playwright install`` cannot download one here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO, Server, env_for, record_runs, start_server, stop, write_project

CHROMIUM = Path(os.environ.get("FLOWYML_CHROMIUM", "/usr/bin/chromium"))
SHOTS = REPO / ".ci" / "artifacts" / "ui"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip(
        f"chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = write_project(tmp_path_factory.mktemp("ui-browser"))
    return root, record_runs(root)


@pytest.fixture(scope="module")
def server(project: tuple[Path, dict[str, str]]) -> Iterator[Server]:
    running = start_server(project[0])
    yield running
    stop(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], errors


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_runs_run_graph_step_outputs_logs_and_traceback(
    page: object, server: Server, project: tuple[Path, dict[str, str]]
) -> None:
    ids = project[1]
    p = page
    p.goto(server.url)  # type: ignore[attr-defined]
    rows = p.locator("table.runs tbody tr")  # type: ignore[attr-defined]
    rows.first.wait_for()
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-status") for i in range(3)] == [
        "failed",
        "completed",
        "completed",
    ]
    assert p.locator("#range").inner_text() == "1\u20133 of 3"  # type: ignore[attr-defined]
    shot(p, "01-runs")

    p.select_option("select[name=status]", "failed")  # type: ignore[attr-defined]
    p.wait_for_function("document.querySelectorAll('table.runs tbody tr').length === 1")  # type: ignore[attr-defined]
    assert "status=failed" in p.url  # type: ignore[attr-defined]
    p.select_option("select[name=status]", "")  # type: ignore[attr-defined]
    p.wait_for_function("document.querySelectorAll('table.runs tbody tr').length === 3")  # type: ignore[attr-defined]

    p.click(f"tr[data-run='{ids['completed']}'] a")  # type: ignore[attr-defined]
    p.wait_for_selector("svg.dag g.node")  # type: ignore[attr-defined]
    nodes = {
        n.get_attribute("data-step"): n.get_attribute("data-status")
        for n in p.locator("svg.dag g.node").all()  # type: ignore[attr-defined]
    }
    assert nodes == {
        "load": "completed",
        "frame": "completed",
        "matrix": "completed",
        "report": "completed",
    }
    assert p.locator("svg.dag path.edge").count() == 4  # type: ignore[attr-defined]
    p.click("svg.dag g.node[data-step=report]")  # type: ignore[attr-defined]
    p.click("#step-panel .tabs button[data-tab=inputs]")  # type: ignore[attr-defined]
    p.wait_for_selector(".artifact[data-artifact=df] table.frame")  # type: ignore[attr-defined]
    assert "DataFrame 10 rows \u00d7 2 columns" in p.inner_text(".artifact[data-artifact=df]")  # type: ignore[attr-defined]
    assert "array shape (3, 4) dtype float32" in p.inner_text(".artifact[data-artifact=m]")  # type: ignore[attr-defined]
    p.click("#step-panel .tabs button[data-tab=outputs]")  # type: ignore[attr-defined]
    p.wait_for_selector(".artifact[data-artifact=output] pre.json")  # type: ignore[attr-defined]
    assert '"rows": 10' in p.inner_text(".artifact[data-artifact=output]")  # type: ignore[attr-defined]
    with p.expect_download() as download:  # type: ignore[attr-defined]
        p.click(".artifact[data-artifact=output] a.download")  # type: ignore[attr-defined]
    assert json.loads(Path(download.value.path()).read_text()) == {"rows": 10, "total": 66.0}
    shot(p, "02-run-outputs")
    p.click("svg.dag g.node[data-step=load]")  # type: ignore[attr-defined]
    p.click("#step-panel .tabs button[data-tab=logs]")  # type: ignore[attr-defined]
    p.wait_for_selector("#log")  # type: ignore[attr-defined]
    assert "loading 10 numbers" in p.inner_text("#log")  # type: ignore[attr-defined]
    shot(p, "03-run-logs")

    p.goto(server.url + f"runs/{ids['cached']}")  # type: ignore[attr-defined]
    p.wait_for_selector("svg.dag g.node")  # type: ignore[attr-defined]
    statuses = {n.get_attribute("data-status") for n in p.locator("svg.dag g.node").all()}  # type: ignore[attr-defined]
    assert statuses == {"cached"}
    link = p.locator("#compare-previous a")  # type: ignore[attr-defined]
    link.wait_for()
    assert link.get_attribute("href") == f"/compare?a={ids['completed']}&b={ids['cached']}"

    p.goto(server.url + f"runs/{ids['failed']}")  # type: ignore[attr-defined]
    p.wait_for_selector("svg.dag g.node")  # type: ignore[attr-defined]
    nodes = {
        n.get_attribute("data-step"): n.get_attribute("data-status")
        for n in p.locator("svg.dag g.node").all()  # type: ignore[attr-defined]
    }
    assert nodes == {"prepare": "completed", "explode": "failed", "after": "skipped"}
    p.click("svg.dag g.node[data-step=explode]")  # type: ignore[attr-defined]
    p.wait_for_selector("#traceback")  # type: ignore[attr-defined]
    assert "ValueError: bad value 3" in p.inner_text("#traceback")  # type: ignore[attr-defined]
    shot(p, "04-failed-run")


def test_compare_two_runs(
    page: object, server: Server, project: tuple[Path, dict[str, str]]
) -> None:
    ids = project[1]
    p = page
    p.goto(server.url + "?pipeline=demo")  # type: ignore[attr-defined]
    p.wait_for_selector("table.runs tbody tr")  # type: ignore[attr-defined]
    for run in (ids["completed"], ids["cached"]):
        p.check(f"tr[data-run='{run}'] input[type=checkbox]")  # type: ignore[attr-defined]
    p.click("#compare-link")  # type: ignore[attr-defined]
    p.wait_for_selector("table.compare")  # type: ignore[attr-defined]
    text = p.inner_text("main")  # type: ignore[attr-defined]
    assert "Compare runs of demo" in text and "report" in text
    shot(p, "05-compare")


def test_stack_plan_with_its_total_cost(page: object, server: Server) -> None:
    p = page
    p.goto(server.url + "stacks")  # type: ignore[attr-defined]
    p.wait_for_selector("tr[data-stack=production]")  # type: ignore[attr-defined]
    shot(p, "06-stacks")
    p.click("tr[data-stack=production] a")  # type: ignore[attr-defined]
    p.wait_for_selector("#plan-total", timeout=60_000)  # type: ignore[attr-defined]
    total = p.inner_text("#plan-new")  # type: ignore[attr-defined]
    assert total.startswith("$") and total.endswith("/mo") and total != "$0.00/mo"
    assert p.locator("table.plan tbody tr").count() > 5  # type: ignore[attr-defined]
    assert "$0.00/mo →" in p.inner_text("#plan-total")  # type: ignore[attr-defined]
    shot(p, "07-stack-plan")


def test_a_run_started_while_the_page_is_open_appears_and_moves_on(
    page: object, server: Server, project: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root = project[0]
    gate = tmp_path / "gate"
    gate.mkdir()
    p = page
    p.goto(server.url)  # type: ignore[attr-defined]
    p.wait_for_selector("table.runs tbody tr")  # type: ignore[attr-defined]
    p.evaluate("window.__sameDocument = true")  # type: ignore[attr-defined]
    run = subprocess.Popen(
        [sys.executable, "-m", "flowyml.cli", "run", "gated.py"],
        cwd=root,
        env=env_for(root, UI_TEST_GATE=str(gate)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        row = p.locator("table.runs tbody tr[data-status=running]")  # type: ignore[attr-defined]
        row.wait_for(timeout=30_000)
        assert p.evaluate("window.__sameDocument") is True  # type: ignore[attr-defined]
        shot(p, "08-live-run-listed")
        row.locator("a").click()
        p.wait_for_selector("svg.dag g.node[data-step=first][data-status=running]", timeout=30_000)  # type: ignore[attr-defined]
        p.evaluate("window.__sameDocument = true")  # type: ignore[attr-defined]
        shot(p, "09-live-run-first-running")
        (gate / "first").touch()
        p.wait_for_selector(
            "svg.dag g.node[data-step=first][data-status=completed]", timeout=30_000
        )  # type: ignore[attr-defined]
        p.wait_for_selector("svg.dag g.node[data-step=second][data-status=running]", timeout=30_000)  # type: ignore[attr-defined]
        (gate / "second").touch()
        p.wait_for_selector(
            "svg.dag g.node[data-step=second][data-status=completed]", timeout=30_000
        )  # type: ignore[attr-defined]
        p.wait_for_selector(".run-head .badge[data-status=completed]", timeout=30_000)  # type: ignore[attr-defined]
        assert p.evaluate("window.__sameDocument") is True  # no reload happened  # type: ignore[attr-defined]
        shot(p, "10-live-run-completed")
        assert run.wait(timeout=60) == 0, run.stderr.read() if run.stderr else ""
    finally:
        (gate / "first").touch()
        (gate / "second").touch()
        if run.poll() is None:
            run.wait(timeout=60)
