"""``flowyml runs list|show|compare``: what the project's metadata stores recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from flowyml.cli import term
from flowyml.cli._common import echo_json
from flowyml.cli.completion import complete_run_ids, store_stack_option


def step_costs(run: Any) -> dict[str, Decimal | None]:
    """Estimated USD cost of each step of ``run`` (see :func:`flowyml.cost.run_step_costs`)."""
    from flowyml.cli.run_sources import named_stack
    from flowyml.core.errors import FlowymlError
    from flowyml.cost import run_step_costs
    from flowyml.stacks.registry import resolve_stack

    def stack_for(name: str | None) -> Any | None:
        try:
            return named_stack(name)[0] if name else resolve_stack(None, None)
        except FlowymlError:  # a stack removed since the run: its price is unknown
            return None

    return run_step_costs(run.steps, stack_for)


@click.group()
def runs() -> None:
    """List and inspect recorded pipeline runs."""
    term.route_warnings()


@runs.command("list")
@click.option("--pipeline", "pipeline_name", help="Only runs of this pipeline.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@store_stack_option(
    "Read only this stack's metadata store (default: every local store of the project)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_runs(pipeline_name: str | None, limit: int, stack_name: str | None, as_json: bool) -> None:
    """List recent runs, newest first, with their parameters."""
    from flowyml.cli.render_runs import run_summary_dict, runs_lines
    from flowyml.cli.run_sources import sources
    from flowyml.runtime.orchestrators.driver import record_unwatched

    found = []
    for source in sources(stack_name):
        record_unwatched(source.bound)  # runs an orchestrator made that nobody followed
        found += source.bound.metadata_store.list_runs(pipeline=pipeline_name, limit=limit)
    found.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
    found = found[:limit]
    if as_json:
        echo_json([run_summary_dict(r) for r in found])
        return
    term.echo(runs_lines(found, pipeline_name))


@runs.command("show")
@click.argument("run_id", shell_complete=complete_run_ids)
@store_stack_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show_run(run_id: str, stack_name: str | None, as_json: bool) -> None:
    """Show one run: its steps with status, duration, cache use, cost, outputs and errors.

    Small outputs (numbers, short strings, small dicts such as metrics) are shown as values,
    DataFrames and arrays by their shape; `flowyml artifacts show RUN STEP` prints one whole.
    """
    from flowyml.cli.render_runs import run_dict
    from flowyml.cli.run_sources import find_run, sources
    from flowyml.runtime.errors import RunNotFoundError
    from flowyml.runtime.orchestrators.driver import record_unwatched, refresh

    try:
        run, source = find_run(run_id, stack_name)
    except RunNotFoundError:  # perhaps a scheduled run no client has recorded yet
        if not any([record_unwatched(s.bound) for s in sources(stack_name)]):
            raise
        run, source = find_run(run_id, stack_name)
    if run.status.value == "running" and refresh(source.bound, run.run_id) is not None:
        run = source.bound.metadata_store.get_run(run.run_id)  # brought up to date
    costs = step_costs(run)
    if as_json:
        echo_json(run_dict(run, costs))
        return
    term.echo(show_lines(run, source, costs))


def show_lines(
    run: Any, source: Any, costs: dict[str, Decimal | None], *, tracebacks: bool = True
) -> list[str]:
    """The text of ``runs show`` for ``run`` found in ``source`` (loads small outputs)."""
    from flowyml.cli.previews import describe, head_lines, human_size, relative_uri, short_type
    from flowyml.cli.render_runs import run_lines

    store = source.bound.artifact_store
    root = store.root_uri
    shown_root = _shown_root(root)
    width = term.width()
    inline: dict[str, dict[str, str]] = {}
    artifacts: list[tuple[str, str, str]] = []
    heads: list[tuple[str, list[str]]] = []
    for step in run.steps:
        for name, ref in step.outputs.items():
            text, value = describe(ref, store.load)
            inline.setdefault(step.name, {})[name] = text
            label = step.name if name == "output" else f"{step.name}.{name}"
            what = f"{short_type(ref.type_name)}, {human_size(ref.size)}"
            artifacts.append((label, what, relative_uri(ref.uri, root)))
            head = head_lines(value, width=width - 4)
            if head and len(heads) < _MAX_HEADS:
                heads.append((f"{label} ({text})", head))
    hints = [
        term.shorten(f"  {step.name}: " + ", ".join(f"{k} {v}" for k, v in details.items()), width)
        for step in run.steps
        for details in [getattr(step, "details", None) or {}]
        if details
    ]
    if hints:
        hints = ["Where steps ran:", *hints, ""]
    hints.append(f"One output in full: flowyml artifacts show {run.run_id[:12]} STEP[.OUTPUT]")
    if "logs" in runs.commands and any(getattr(s, "log_uri", None) for s in run.steps):
        hints.append(f"Step logs: flowyml runs logs {run.run_id[:12]} [STEP]")
    return run_lines(
        run,
        costs,
        tracebacks=tracebacks,
        inline=inline,
        artifacts=artifacts,
        store_root=shown_root,
        heads=heads,
        hints=hints,
    )


_MAX_HEADS = 3  # DataFrame heads shown by `runs show` (the rest: `artifacts show`)


def _shown_root(root: str) -> str:
    """The store's root as shown: relative to the project when it is a folder inside it."""
    from flowyml.core.paths import project_dir

    prefix = project_dir().as_uri() + "/"
    return root[len(prefix) :] if root.startswith(prefix) else root


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True, shell_complete=complete_run_ids)
@store_stack_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def compare_runs(run_ids: tuple[str, ...], stack_name: str | None, as_json: bool) -> None:
    """Put runs side by side: parameters, metric-like outputs, step durations and cost.

    Metric-like outputs are a step's number output and the numbers of a dict output (such as
    a metrics dict).
    """
    from flowyml.cli.previews import describe, metrics_of
    from flowyml.cli.render_runs import compare_lines, run_dict
    from flowyml.cli.run_sources import find_run

    if len(run_ids) < 2:
        raise click.UsageError("give at least two run ids to compare")
    found = [find_run(run_id, stack_name) for run_id in run_ids]
    records = [run for run, _ in found]
    costs = [step_costs(run) for run in records]
    metrics = []
    for run, source in found:
        values: dict[str, Any] = {}
        for step in run.steps:
            for name, ref in step.outputs.items():
                _, value = describe(ref, source.bound.artifact_store.load)
                label = step.name if name == "output" else f"{step.name}.{name}"
                values.update(metrics_of(value, label))
        metrics.append(values)
    if as_json:
        echo_json(
            {
                "runs": [
                    {**run_dict(run, cost), "metrics": m}
                    for run, cost, m in zip(records, costs, metrics, strict=True)
                ]
            }
        )
        return
    term.echo(compare_lines(records, costs, metrics))


def _add_logs() -> None:
    from flowyml.cli.logs_cmd import logs

    runs.add_command(logs)


_add_logs()


def _add_optional_commands() -> None:
    """Add ``runs logs`` when its module is present (it is built alongside, in logs_cmd.py)."""
    import importlib

    try:
        module = importlib.import_module("flowyml.cli.logs_cmd")
    except ModuleNotFoundError as exc:
        if exc.name != "flowyml.cli.logs_cmd":
            raise
        return
    command = getattr(module, "logs", None)
    if isinstance(command, click.Command) and "logs" not in runs.commands:
        runs.add_command(command, "logs")


_add_optional_commands()
