"""``flowyml schedule create|list|delete|sync``: pipelines on the orchestrator's own schedules."""

from __future__ import annotations

from typing import Any

import click

from flowyml.cli.completion import complete_stack_names

_STACK = click.option(
    "--stack",
    "stack_name",
    help="The stack whose orchestrator holds the schedules (default: the active stack).",
    shell_complete=complete_stack_names,
)


def _bound(stack_name: str | None, pipeline_stack: Any = None) -> Any:
    from flowyml.runtime.binding import bind_stack
    from flowyml.stacks.registry import resolve_stack

    return bind_stack(resolve_stack(stack_name, pipeline_stack))


@click.group()
def schedule() -> None:
    """Run pipelines on a cron schedule of the stack's orchestrator.

    A Vertex AI PipelineJobSchedule, a Kubeflow recurring run or an Airflow DAG schedule. The
    runs they make are recorded in the stack's metadata store by `flowyml schedule sync`.
    """


@schedule.command("create")
@click.argument("target", metavar="FILE[:PIPELINE]", type=click.Path(dir_okay=False))
@_STACK
@click.option("--cron", required=True, help='Five-field cron expression, e.g. "0 3 * * *" (UTC).')
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Pipeline parameter (repeat)."
)
def create(target: str, stack_name: str | None, cron: str, params: tuple[str, ...]) -> None:
    """Schedule the pipeline in FILE (its image is built and pushed first)."""
    from flowyml.cli._common import parse_key_values
    from flowyml.cli.loader import load_pipeline
    from flowyml.pipeline import ParameterizedPipeline
    from flowyml.runtime.orchestrators.driver import create_schedule

    pipe = load_pipeline(target)
    raw = parse_key_values(params, "--param")
    values = pipe.parse_params(raw) if isinstance(pipe, ParameterizedPipeline) else raw
    runnable = pipe.build(**values) if isinstance(pipe, ParameterizedPipeline) else pipe
    bound = _bound(stack_name, pipe.stack)
    made = create_schedule(
        runnable, bound, cron, params=values, progress=lambda line: click.echo(f"  {line}")
    )
    click.echo(f"scheduled {runnable.name} on {bound.name} ({cron}): {made}")


@schedule.command("list")
@_STACK
def list_(stack_name: str | None) -> None:
    """List the schedules flowyml created on the stack's orchestrator."""
    from flowyml.cli import term
    from flowyml.runtime.orchestrators.driver import engine_for

    found = engine_for(_bound(stack_name)).list_schedules()
    if not found:
        click.echo("no schedules")
        return
    rows = [("PIPELINE", "CRON", "STATE", "ID")]
    rows += [(s.pipeline, s.cron, s.state, s.schedule_id) for s in found]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    term.echo(["  ".join([*(r[i].ljust(widths[i]) for i in range(3)), r[3]]) for r in rows])


@schedule.command("delete")
@click.argument("schedule_id", metavar="ID")
@_STACK
def delete(schedule_id: str, stack_name: str | None) -> None:
    """Delete the schedule ID (as `flowyml schedule list` shows it)."""
    from flowyml.runtime.orchestrators.driver import engine_for

    engine_for(_bound(stack_name)).delete_schedule(schedule_id)
    click.echo(f"deleted {schedule_id}")


@schedule.command("sync")
@_STACK
def sync(stack_name: str | None) -> None:
    """Record the runs the orchestrator made (schedules, triggers) in the metadata store."""
    from flowyml.runtime.orchestrators.record import sync_stack

    synced = sync_stack(_bound(stack_name))
    for run in synced:
        click.echo(f"{run.run_id[:12]}  {run.pipeline}  {run.status.value}")
    click.echo(f"{len(synced)} run(s) brought up to date")
