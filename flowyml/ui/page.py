"""The HTML shell every page shares: the page name, the first API answer inline, and the assets.

Each page carries the answer of the API call it would make first, so it paints without a second
round trip; ``static/app.js`` renders it and then keeps it fresh by polling the same API.
"""

from __future__ import annotations

import html
from typing import Any

from flowyml import __version__
from flowyml.ui.jsonio import dumps

_NAV = (("runs", "/", "Runs"), ("stacks", "/stacks", "Stacks"))


def _inline_json(data: Any) -> str:
    # Inside <script>, only "</" (and the U+2028/9 line breaks in old parsers) can end it early.
    return (
        dumps(data).replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def render(page: str, title: str, initial: Any, *, stack: str, store: str | None) -> str:
    """The document for ``page`` (``runs``, ``run``, ``compare``, ``stacks``, ``stack``)."""
    section = "stacks" if page.startswith("stack") else "runs"
    nav = "".join(
        f'<a href="{href}" class="{"active" if key == section else ""}">{label}</a>'
        for key, href, label in _NAV
    )
    where = html.escape(f"stack {stack}" + (f" · {store}" if store else ""))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · flowyml</title>
<link rel="stylesheet" href="/static/app.css?v={__version__}">
<link rel="icon" href="data:,">
</head>
<body data-page="{html.escape(page)}">
<header class="top">
  <a class="brand" href="/">flowyml</a>
  <nav>{nav}</nav>
  <span class="where" title="metadata store">{where}</span>
</header>
<main id="main"><p class="muted">Loading…</p></main>
<script id="initial" type="application/json">{_inline_json(initial)}</script>
<script src="/static/vendor/dagre.min.js?v=3.1.3"></script>
<script src="/static/app.js?v={__version__}"></script>
</body>
</html>
"""


def login(next_path: str, failed: bool) -> str:
    """The form asking for the token on a non-loopback bind."""
    note = '<p class="error">That token is not right.</p>' if failed else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Token · flowyml</title>
<link rel="stylesheet" href="/static/app.css?v={__version__}"></head>
<body><main class="login">
<h1>flowyml</h1>
<p>This dashboard listens beyond this machine: give the token <code>flowyml ui</code> printed.</p>
{note}
<form method="post" action="/login">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<input type="password" name="token" placeholder="token" autofocus required>
<button type="submit">Open</button>
</form></main></body></html>
"""


__all__ = ["login", "render"]
