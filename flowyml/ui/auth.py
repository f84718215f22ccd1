"""Who may read the dashboard: a token on non-loopback binds, the Host header on loopback ones.

Bound to a loopback address, the dashboard is as private as the machine; it only checks the
``Host`` header, so a web page elsewhere cannot read it through DNS rebinding. Bound to any other
address, every page and API call needs the token printed at start: in an
``Authorization: Bearer`` header, the ``flowyml_ui_token`` cookie (set by the login form or by
opening a page with ``?token=``), compared in constant time. Static assets (code, no data) and the
login form are the only things served without it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

COOKIE = "flowyml_ui_token"
TOKEN_ENV = "FLOWYML_UI_TOKEN"
_OPEN_PREFIXES = ("/static/", "/login")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for ``127.0.0.0/8``, ``::1`` and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random token (URL-safe, 32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def presented_token(scope: Scope) -> str | None:
    """The token a request carries (header, cookie or ``?token=``), if any."""
    headers = _headers(scope)
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = SimpleCookie()
    cookie.load(headers.get("cookie", ""))
    if COOKIE in cookie:
        return cookie[COOKIE].value
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


class Guard:
    """ASGI middleware enforcing the rules in the module docstring.

    Args:
        app: The wrapped application.
        token: Required token, or ``None`` (loopback bind without ``--token``).
        allowed_hosts: Host header values accepted when ``token`` is ``None``.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if self.token is None:
            host = _headers(scope).get("host", "")
            if host not in self.allowed_hosts:
                await _reply(send, 400, "text/plain", b"unexpected Host header")
                return
            await self.app(scope, receive, send)
            return
        if path.startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        given = presented_token(scope)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            if path.startswith("/api/"):
                body = b'{"error":"a token is required: this dashboard listens beyond this machine","hint":"send Authorization: Bearer TOKEN (printed by `flowyml ui` at start)"}'
                await _reply(send, 401, "application/json", body)
            else:
                back = urlencode({"next": path})
                await _reply(send, 303, "text/plain", b"", location=f"/login?{back}")
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query and not path.startswith("/api/"):
            # Opened from the printed URL: keep the token in a cookie, drop it from the address.
            rest = urlencode({k: v for k, v in query.items() if k != "token"}, doseq=True)
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            await _reply(
                send,
                303,
                "text/plain",
                b"",
                location=path + (f"?{rest}" if rest else ""),
                cookie=cookie,
            )
            return
        await self.app(scope, receive, send)


async def _reply(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    *,
    location: str | None = None,
    cookie: str | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if location is not None:
        headers.append((b"location", location.encode("latin-1")))
    if cookie is not None:
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def loopback_hosts(port: int) -> frozenset[str]:
    """The Host header values a loopback bind accepts."""
    names = ("127.0.0.1", "localhost", "[::1]")
    return frozenset({*names, *(f"{n}:{port}" for n in names)})


__all__ = [
    "COOKIE",
    "TOKEN_ENV",
    "Guard",
    "is_loopback",
    "loopback_hosts",
    "new_token",
    "presented_token",
]
