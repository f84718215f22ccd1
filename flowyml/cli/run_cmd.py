"""``flowyml run FILE[:PIPELINE]``: run a pipeline on a stack and show what was recorded."""

from __future__ import annotations

import contextlib
import sys

import click

from flowyml.cli import term
from flowyml.cli._common import echo_json, parse_key_values
from flowyml.cli.completion import complete_stack_names


@click.command()
@click.argument("target", metavar="FILE[:PIPELINE]", type=click.Path(dir_okay=False))
@click.option(
    "--stack",
    "stack_name",
    help="Stack to run on (default: the active stack).",
    shell_complete=complete_stack_names,
)
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Pipeline parameter (repeat)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded run as JSON.")
@click.option(
    "--detach",
    is_flag=True,
    help="With an orchestrator: return once the run is submitted (see it with `runs show`).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Build and submit nothing: print each step's submission and the run's estimated cost.",
)
def run(
    target: str,
    stack_name: str | None,
    params: tuple[str, ...],
    as_json: bool,
    detach: bool,
    dry_run: bool,
) -> None:
    """Run the pipeline defined in FILE (name it with FILE:PIPELINE when there are several).

    A failed run exits 1 with one error line; ``flowyml --debug run`` also prints the failed
    steps' tracebacks.
    """
    from flowyml.cli.loader import handle_misuse, load_pipeline, split_target
    from flowyml.cli.render_runs import failure_line, run_dict
    from flowyml.cli.run_sources import RunSource, check_sqlite_file
    from flowyml.cli.runs_cmd import show_lines, step_costs
    from flowyml.pipeline import ParameterizedPipeline
    from flowyml.stacks.registry import resolve_stack

    term.route_warnings()
    raw = parse_key_values(params, "--param")
    pipe = load_pipeline(target)
    declared = resolve_stack(stack_name, pipe.stack)
    check_sqlite_file(declared)
    try:
        values = pipe.parse_params(raw) if isinstance(pipe, ParameterizedPipeline) else raw
        runnable = pipe.build(**values) if isinstance(pipe, ParameterizedPipeline) else pipe
    except TypeError as exc:
        misuse = handle_misuse(exc, split_target(target)[0])
        if misuse is None:
            raise
        raise misuse from exc
    if dry_run:
        from flowyml.runtime.dryrun import dry_run as plan_run
        from flowyml.runtime.dryrun import render_dry_run

        planned = plan_run(runnable, stack=declared if stack_name else None)
        if as_json:
            echo_json(planned.to_dict())
        else:
            term.echo(render_dry_run(planned))
        return
    if not as_json:
        _show_progress()
    try:
        chosen = declared if stack_name else None  # else resolved inside, as in Python
        # With --json, stdout holds only the JSON: what steps print goes to stderr (and is
        # still kept as their logs).
        from flowyml.runtime.orchestrators.launch import detached

        quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
        with quiet, detached(detach):
            result = runnable.run(stack=chosen, **({} if runnable is not pipe else raw))
    except KeyboardInterrupt:
        # The runner has recorded the run `cancelled` before re-raising: say where it is.
        click.echo(
            f"Interrupted: the run was recorded as cancelled "
            f"(see `flowyml runs list --pipeline {pipe.name}`).",
            err=True,
        )
        raise SystemExit(130) from None
    from flowyml.runtime.binding import bind_stack

    bound = bind_stack(declared)
    record = bound.metadata_store.get_run(result.run_id)
    costs = step_costs(record)
    if as_json:
        echo_json(run_dict(record, costs))
    else:
        click.echo()
        ctx_obj = click.get_current_context().find_root().obj or {}
        source = RunSource(declared, bound, "active")
        lines = show_lines(record, source, costs, tracebacks=bool(ctx_obj.get("debug")))
        term.echo(lines)
        click.echo(f"\nSee it again with: flowyml runs show {record.run_id[:12]}")
    if detach and record.status.value == "running":
        return  # submitted, not finished: `runs show` brings it up to date
    if not result.ok:
        click.echo(
            f"Error: {failure_line(record)} "
            f"(full traceback: flowyml runs show {record.run_id[:12]})",
            err=True,
        )
        raise SystemExit(1)


def _show_progress() -> None:
    """Print the runner's step progress on stdout as it happens (stdout stays pure with --json)."""
    import logging
    import sys

    logger = logging.getLogger("flowyml.run")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
