"""``flowyml runs list`` and ``flowyml runs show``: what the metadata store recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from flowyml.cli._common import echo_json


def _open_store(stack_name: str | None) -> Any | None:
    """The metadata store of ``stack_name`` (the active/default stack when ``None``).

    Returns ``None`` when the stack's SQLite database does not exist yet: reading must not
    create it.
    """
    from pathlib import Path

    from flowyml.runtime.binding import bind_stack
    from flowyml.stacks.registry import resolve_stack

    stack = resolve_stack(stack_name, None)
    store = getattr(stack, "metadata_store", None)
    if getattr(store, "kind", None) == "sqlite" and not Path(store.path).exists():  # type: ignore[union-attr]
        return None
    return bind_stack(stack).metadata_store


def step_costs(run: Any) -> dict[str, Decimal | None]:
    """Estimated USD cost of each step of ``run`` (see :func:`flowyml.cost.run_step_costs`)."""
    from flowyml.core.errors import FlowymlError
    from flowyml.cost import run_step_costs
    from flowyml.stacks.registry import resolve_stack

    def stack_for(name: str | None) -> Any | None:
        try:
            return resolve_stack(name, None)
        except FlowymlError:  # a stack removed since the run: its price is unknown
            return None

    return run_step_costs(run.steps, stack_for)


@click.group()
def runs() -> None:
    """List and inspect recorded pipeline runs."""


@runs.command("list")
@click.option("--pipeline", "pipeline_name", help="Only runs of this pipeline.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--stack", "stack_name", help="Read this stack's metadata store (default: active).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_runs(pipeline_name: str | None, limit: int, stack_name: str | None, as_json: bool) -> None:
    """List recent runs, newest first."""
    from flowyml.cli.render_runs import run_summary_dict, runs_lines

    store = _open_store(stack_name)
    found = [] if store is None else list(store.list_runs(pipeline=pipeline_name, limit=limit))
    if as_json:
        echo_json([run_summary_dict(r) for r in found])
        return
    for line in runs_lines(found, pipeline_name):
        click.echo(line)


@runs.command("show")
@click.argument("run_id")
@click.option("--stack", "stack_name", help="Read this stack's metadata store (default: active).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show_run(run_id: str, stack_name: str | None, as_json: bool) -> None:
    """Show one run: its steps with status, duration, cache use, cost, artifacts and errors."""
    from flowyml.cli.render_runs import run_dict, run_lines
    from flowyml.runtime.errors import RunNotFoundError

    store = _open_store(stack_name)
    if store is None:
        raise RunNotFoundError(
            f"no run with id {run_id!r}: no runs are recorded yet",
            hint="run a pipeline with `flowyml run FILE` first.",
        )
    run = store.get_run(run_id)
    costs = step_costs(run)
    if as_json:
        echo_json(run_dict(run, costs))
        return
    for line in run_lines(run, costs):
        click.echo(line)
