"""Terminal output for the CLI: tables that fit the width, colour only on a terminal.

Invariants:
- The width is ``$COLUMNS`` when set, else the terminal's, else 100 (piped output); every table
  is fitted to it by shortening its flexible columns (their cells end with ``…``), never by
  letting rows wrap.
- Colour is applied with :func:`click.style`; :func:`echo` lets click strip it when stdout is
  not a terminal, and ``NO_COLOR`` turns it off everywhere.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import click

DEFAULT_WIDTH = 100
"""Width used when neither ``$COLUMNS`` nor a terminal says otherwise (piped output)."""
ELLIPSIS = "…"

_STATUS_COLOURS: dict[str, str] = {
    "completed": "green",
    "cached": "cyan",
    "running": "yellow",
    "pending": "yellow",
    "failed": "red",
    "cancelled": "magenta",
    "skipped": "bright_black",
}


def width() -> int:
    """Columns available for a line (at least 40)."""
    return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with ``…``."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    return text[: limit - 1] + ELLIPSIS


def status_style(status: str) -> str:
    """``status`` coloured by what it means (green done, red failed...)."""
    colour = _STATUS_COLOURS.get(status.strip())
    return click.style(status, fg=colour) if colour else status


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    flexible: Mapping[int, int] | None = None,
    max_width: int | None = None,
    styles: Mapping[int, Callable[[str], str]] | None = None,
) -> list[str]:
    """Rows aligned in columns, fitted to ``max_width`` (default :func:`width`).

    Args:
        headers: Column titles.
        rows: Cells (plain text: lengths are measured before styling).
        flexible: Column index -> narrowest it may become; these columns give up width, the
            widest first, until the table fits. Other columns keep their natural width.
        max_width: Width to fit.
        styles: Column index -> function styling a padded cell (colour).
    """
    limit = width() if max_width is None else max_width
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    floors = dict(flexible or {})
    excess = sum(widths) + 2 * (len(widths) - 1) - limit
    while excess > 0:
        shrinkable = [i for i in floors if widths[i] > max(floors[i], 1)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        others = [widths[i] for i in shrinkable if i != widest]
        target = max(floors[widest], max(others, default=0), widths[widest] - excess)
        if target >= widths[widest]:
            target = widths[widest] - 1
        excess -= widths[widest] - target
        widths[widest] = target
    style_of = dict(styles or {})

    def line(cells: Sequence[str], styled: bool) -> str:
        parts = []
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
            text = shorten(cell, w).ljust(w)
            if styled and i in style_of:
                stripped = text.rstrip()
                text = style_of[i](stripped) + text[len(stripped) :]
            parts.append(text)
        return "  ".join(parts).rstrip()

    return [line(headers, False), *(line(row, True) for row in rows)]


def echo(lines: Iterable[str] | str, *, err: bool = False) -> None:
    """Print lines; colour only on a terminal and never with ``NO_COLOR`` set."""
    colour = False if os.environ.get("NO_COLOR") else None
    for text in [lines] if isinstance(lines, str) else lines:
        click.echo(text, err=err, color=colour)


def route_warnings() -> None:
    """Show Python warnings (``UserWarning`` from flowyml) as one ``Warning:`` line on stderr.

    Each distinct message is shown once per process.
    """
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        text = str(message)
        if text in shown:
            return
        shown.add(text)
        colour = False if os.environ.get("NO_COLOR") else None
        click.echo(click.style("Warning: ", fg="yellow") + text, err=True, color=colour)

    warnings.showwarning = show  # type: ignore[assignment]
    warnings.simplefilter("default", UserWarning)
