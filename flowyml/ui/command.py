"""``flowyml ui``: serve the dashboard over a stack's metadata and artifact stores.

Thin: parse, bind the socket (so a busy port fails before anything starts), build the app,
print where it is, open the browser, serve until Ctrl-C. The server libraries are imported only
when the command runs, so ``flowyml --help`` does not load them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import webbrowser
from typing import Any

import click

from flowyml.core.errors import FlowymlError
from flowyml.ui.auth import TOKEN_ENV, is_loopback, new_token
from flowyml.ui.errors import UiError

DEFAULT_PORT = 8237


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UiError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="pick another port with --port (0 takes a free one), or stop what uses it",
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command("ui")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; any non-loopback address requires the token.",
)
@click.option("--stack", "stack_name", help="Show this stack's stores (default: the active stack).")
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    help=f"Token to require (default: a new one on non-loopback addresses; ${TOKEN_ENV}).",
)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
def ui(port: int, host: str, stack_name: str | None, token: str | None, no_open: bool) -> None:
    """Open the dashboard: runs, their graphs, steps, logs, outputs and cost; stacks and plans."""
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise UiError(
            f"the dashboard needs {exc.name}, which is not installed.",
            hint="pip install 'flowyml[ui]'",
        ) from exc

    from flowyml.stacks.registry import resolve_stack
    from flowyml.ui.server import create_app
    from flowyml.ui.source import Source

    if not is_loopback(host) and not token:
        token = new_token()
    source = Source(resolve_stack(stack_name, None))
    sock = _bind(host, port)
    bound_port = int(sock.getsockname()[1])
    shown_host = f"[{host.strip('[]')}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}/"
    click.echo(
        f"flowyml ui: {url}  (stack {source.name}, store {source.declared_store_url or '-'})"
    )
    if token:
        click.echo(f"token: {token}  (open {url}?token={token})")
    click.echo("Press Ctrl-C to stop.", err=True)
    app = create_app(source, token=token, port=bound_port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    if not no_open:
        target = f"{url}?token={token}" if token else url
        threading.Timer(0.3, webbrowser.open, args=(target,)).start()
    # Open the stores while the server starts listening: the first request finds them ready.
    threading.Thread(target=_warm, args=(source,), daemon=True).start()
    server.run(sockets=[sock])


def _warm(source: Any) -> None:
    # Each request reports a failure itself (e.g. the database is down), in one line.
    with contextlib.suppress(FlowymlError):
        source.warm()


__all__ = ["DEFAULT_PORT", "ui"]
