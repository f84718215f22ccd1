"""Who may read the dashboard: bound beyond loopback, nothing answers without the token; on
loopback, a foreign Host header (DNS rebinding) is refused."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowyml.ui.auth import is_loopback
from flowyml.ui.page import render

from .conftest import Server, start_server, stop

API = [
    "/api/health",
    "/api/runs",
    "/api/runs/{run}",
    "/api/runs/{run}/steps/load",
    "/api/runs/{run}/steps/load/logs",
    "/api/compare?a={run}&b={run}",
    "/api/artifacts/{artifact}",
    "/api/artifacts/{artifact}/download",
    "/api/stacks",
    "/api/stacks/local",
    "/api/stacks/local/plan",
]


@pytest.fixture(scope="module")
def open_server(sqlite_project: tuple[Path, dict[str, str]]) -> Iterator[Server]:
    # Bound to every interface; the test itself only ever connects to 127.0.0.1.
    server = start_server(sqlite_project[0], "--host", "0.0.0.0")
    yield server
    stop(server)


def test_non_loopback_bind_refuses_every_api_call_without_the_token(
    open_server: Server, sqlite_project: tuple[Path, dict[str, str]]
) -> None:
    token = open_server.token
    assert token and len(token) >= 32
    run = sqlite_project[1]["completed"]
    status, body, _ = open_server.get(f"/api/runs/{run}", token=token)
    assert status == 200
    artifact = json.loads(body)["steps"][0]["outputs"]["output"]["id"]
    for template in API:
        path = template.format(run=run, artifact=artifact)
        for presented in (None, "wrong-" + token, token[:-1]):
            status, body, _ = open_server.get(path, token=presented)
            assert status == 401, (path, presented, body)
            assert run not in body and "completed" not in body
        status, _, _ = open_server.get(path, token=token)
        assert status == 200, path
    # Pages send the browser to the token form instead.
    for page in ("/", f"/runs/{run}", "/stacks"):
        status, body, headers = open_server.get(page)
        assert status == 303 and headers["location"].startswith("/login?next=")
        assert run not in body


def test_the_token_form_and_the_printed_url_set_a_cookie(open_server: Server) -> None:
    status, _, headers = open_server.get(f"/?token={open_server.token}")
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"].split(";")[0]
    request = urllib.request.Request(open_server.url + "api/runs", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["total"] == 3

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    right = urllib.request.Request(
        open_server.url + "login",
        data=f"token={open_server.token}&next=//elsewhere.example/".encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as moved:
        urllib.request.build_opener(Keep).open(right, timeout=30)
    assert moved.value.code == 303
    assert moved.value.headers["location"] == "/"  # only paths of this site: no open redirect
    assert "HttpOnly" in moved.value.headers["set-cookie"]

    wrong = urllib.request.Request(
        open_server.url + "login", data=b"token=nope&next=/stacks", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong, timeout=30)
    assert refused.value.code == 401


def test_loopback_bind_needs_no_token_but_checks_the_host_header(sqlite_server: Server) -> None:
    status, _, _ = sqlite_server.get("/api/runs")
    assert status == 200
    request = urllib.request.Request(
        sqlite_server.url + "api/runs", headers={"Host": "evil.example:80"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_inline_data_cannot_close_its_script_tag() -> None:
    document = render(
        "runs", "Runs", {"data": {"x": "</script><script>alert(1)</script>"}}, stack="s", store=None
    )
    inline = document.split('<script id="initial" type="application/json">', 1)[1].split(
        "</script>", 1
    )[0]
    assert json.loads(inline) == {"data": {"x": "</script><script>alert(1)</script>"}}
