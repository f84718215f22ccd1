"""Shell completion of stack names and run ids (click's completion, see docs/cli.md).

Completion must never fail or print: anything that goes wrong completes nothing.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

import click
from click.shell_completion import CompletionItem


def complete_stack_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The project's stack names starting with ``incomplete`` (with their type as help)."""
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        from flowyml.stacks.registry import StackRegistry

        return [
            CompletionItem(entry.name, help=entry.stack_type or "")
            for entry in StackRegistry().entries()
            if entry.name.startswith(incomplete)
        ]
    return []


def complete_run_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Recent run ids (12 characters) starting with ``incomplete``, newest first."""
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        from flowyml.cli.run_sources import sources

        found = []
        for source in sources(ctx.params.get("stack_name")):
            found += source.bound.metadata_store.list_runs(limit=200)
        found.sort(key=lambda r: r.started_at, reverse=True)
        return [
            CompletionItem(r.run_id[:12], help=f"{r.pipeline} {r.status.value}")
            for r in found
            if r.run_id.startswith(incomplete)
        ]
    return []


def store_stack_option(
    help_text: str = "Read only this stack's metadata store.",
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """The ``--stack NAME`` option of the commands that read recorded runs (completes names)."""
    return click.option(
        "--stack", "stack_name", help=help_text, shell_complete=complete_stack_names
    )
