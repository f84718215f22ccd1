"""The dashboard's web app (Starlette): the pages, the JSON API under them, the static assets.

Every response body that carries data passes through the source's :class:`Redactor`. Handlers
are plain functions: Starlette runs them in its thread pool, so a slow query or plan never
blocks the event loop. Errors flowyml raises on purpose become ``{"error", "hint"}`` with 404
(unknown run, step, stack or artifact) or 400; nothing else is caught (a bug is a 500 with no
details in the body).

API (documented in ``docs/ui.md``)::

    GET /api/health                          version, serving stack, masked store URL
    GET /api/runs?pipeline=&status=&stack=&limit=&offset=
    GET /api/runs/{run_id}                   run, steps, graph
    GET /api/runs/{run_id}/steps/{step}      inputs/outputs with previews
    GET /api/runs/{run_id}/steps/{step}/logs captured output (tail)
    GET /api/compare?a=RUN&b=RUN             two runs of one pipeline
    GET /api/artifacts/{id}                  one artifact with its preview
    GET /api/artifacts/{id}/download         its payload
    GET /api/stacks                          declared stacks
    GET /api/stacks/{name}                   components, provisioned, outputs (masked)
    GET /api/stacks/{name}/plan?refresh=1    priced preview (Plan + monthly totals)
"""

from __future__ import annotations

import hmac
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flowyml import __version__
from flowyml.core.errors import FlowymlError
from flowyml.ui import page
from flowyml.ui.auth import COOKIE, Guard, loopback_hosts
from flowyml.ui.errors import ArtifactNotFound, CompareError
from flowyml.ui.jsonio import dumps

if TYPE_CHECKING:
    from flowyml.ui.source import Source

STATIC_DIR = Path(__file__).parent / "static"
_NOT_FOUND_TYPES = ("RunNotFoundError", "UnknownStackError", "ArtifactNotFound")


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        return default


class App:
    """Builds the Starlette app over one :class:`Source`.

    Args:
        source: The serving stack and its stores.
        token: Required token (non-loopback binds), or ``None``.
        port: The port, for the Host header check of loopback binds.
    """

    def __init__(self, source: Source, *, token: str | None, port: int) -> None:
        self.source = source
        self.token = token
        self.port = port

    # -- responses ---------------------------------------------------------------------------

    def _json(self, data: Any, status: int = 200) -> Response:
        body = self.source.redact(dumps(data))
        return Response(body, status_code=status, media_type="application/json")

    def _error(self, exc: FlowymlError) -> Response:
        status = 404 if type(exc).__name__ in _NOT_FOUND_TYPES else 400
        return self._json({"error": exc.message, "hint": exc.hint}, status)

    def api(self, work: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return self._json(work(request))
            except FlowymlError as exc:
                return self._error(exc)

        return endpoint

    def page(
        self, name: str, title: Callable[[Request], str], first: Callable[[Request], Any]
    ) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                initial: Any = {"data": first(request)}
            except FlowymlError as exc:
                initial = {"error": exc.message, "hint": exc.hint}
            document = page.render(
                name,
                title(request),
                {
                    **initial,
                    "params": dict(request.path_params),
                    "query": dict(request.query_params),
                },
                stack=self.source.name,
                store=self.source.store_url,
            )
            return HTMLResponse(self.source.redact(document))

        return endpoint

    # -- data --------------------------------------------------------------------------------

    def health(self, _request: Request) -> dict[str, Any]:
        return {
            "version": __version__,
            "stack": self.source.name,
            "store": self.source.store_url,
            "token_required": self.token is not None,
        }

    def runs(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import queries, runs_view

        q = request.query_params
        filters = queries.RunFilter(
            pipeline=q.get("pipeline") or None,
            status=q.get("status") or None,
            stack=q.get("stack") or None,
        )
        return runs_view.run_rows(
            self.source, filters, _int(request, "limit", 50), _int(request, "offset", 0)
        )

    def run(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import runs_view

        return runs_view.run_view(self.source, request.path_params["run_id"])

    def step(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import runs_view

        p = request.path_params
        return runs_view.step_view(self.source, p["run_id"], p["step"])

    def logs(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import runs_view

        p = request.path_params
        return runs_view.step_log(self.source, p["run_id"], p["step"])

    def compare(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import runs_view

        a, b = request.query_params.get("a"), request.query_params.get("b")
        if not a or not b:
            raise CompareError("compare needs two runs.", hint="give ?a=RUN_ID&b=RUN_ID")
        return runs_view.compare(self.source, a, b)

    def _artifact(self, request: Request) -> tuple[Any, dict[str, str]]:
        from flowyml.ui import queries

        store = self.source.metadata
        found = None if store is None else queries.artifact(store.engine, request.path_params["id"])
        if found is None:
            raise ArtifactNotFound(
                f"no artifact with id {request.path_params['id']!r}.",
                hint="artifact ids are listed with each step's inputs and outputs",
            )
        return found

    def artifact(self, request: Request) -> dict[str, Any]:
        from flowyml.ui.previews import preview, ref_dict

        ref, producer = self._artifact(request)
        return {
            **ref_dict(ref),
            "producer": producer,
            "preview": preview(self.source.artifacts, ref),
        }

    def download(self, request: Request) -> Response:
        from flowyml.ui.previews import read_bytes

        try:
            ref, _ = self._artifact(request)
            data = read_bytes(self.source.artifacts, ref.uri)
        except FlowymlError as exc:
            return self._error(exc)
        except FileNotFoundError:
            return self._json(
                {"error": "the payload is no longer in the artifact store", "hint": None}, 404
            )
        filename = posixpath.basename(ref.uri) or "artifact"
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )

    def stacks(self, _request: Request) -> dict[str, Any]:
        from flowyml.ui import stacks_view

        return stacks_view.stack_rows()

    def stack(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import stacks_view

        return stacks_view.stack_view(request.path_params["name"])

    def plan(self, request: Request) -> dict[str, Any]:
        from flowyml.ui import stacks_view

        refresh = request.query_params.get("refresh") in ("1", "true")
        return stacks_view.stack_plan(request.path_params["name"], refresh=refresh)

    # -- login (non-loopback binds) ----------------------------------------------------------

    def login_form(self, request: Request) -> Response:
        nxt = request.query_params.get("next", "/")
        return HTMLResponse(page.login(nxt, failed=False))

    async def login_post(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        given = (form.get("token") or [""])[0]
        nxt = (form.get("next") or ["/"])[0]
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"  # only paths of this site: no open redirect
        if self.token is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            return HTMLResponse(page.login(nxt, failed=True), status_code=401)
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return response

    # -- assembly ----------------------------------------------------------------------------

    def build(self) -> Any:
        run_title: Callable[[Request], str] = lambda r: f"Run {r.path_params['run_id'][:12]}"  # noqa: E731
        routes = [
            Route("/", self.page("runs", lambda r: "Runs", self.runs)),
            Route("/runs/{run_id}", self.page("run", run_title, self.run)),
            Route("/compare", self.page("compare", lambda r: "Compare runs", self.compare)),
            Route("/stacks", self.page("stacks", lambda r: "Stacks", self.stacks)),
            Route(
                "/stacks/{name}",
                self.page("stack", lambda r: f"Stack {r.path_params['name']}", self.stack),
            ),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login_post, methods=["POST"]),
            Route("/api/health", self.api(self.health)),
            Route("/api/runs", self.api(self.runs)),
            Route("/api/runs/{run_id}", self.api(self.run)),
            Route("/api/runs/{run_id}/steps/{step}", self.api(self.step)),
            Route("/api/runs/{run_id}/steps/{step}/logs", self.api(self.logs)),
            Route("/api/compare", self.api(self.compare)),
            Route("/api/artifacts/{id}", self.api(self.artifact)),
            Route("/api/artifacts/{id}/download", self.download),
            Route("/api/stacks", self.api(self.stacks)),
            Route("/api/stacks/{name}", self.api(self.stack)),
            Route("/api/stacks/{name}/plan", self.api(self.plan)),
            Mount("/static", StaticFiles(directory=STATIC_DIR)),
        ]
        app = Starlette(routes=routes)
        return Guard(app, token=self.token, allowed_hosts=loopback_hosts(self.port))


def create_app(source: Source, *, token: str | None = None, port: int = 0) -> Any:
    """The ASGI app serving ``source`` (see the module docstring)."""
    return App(source, token=token, port=port).build()


__all__ = ["STATIC_DIR", "App", "create_app"]
