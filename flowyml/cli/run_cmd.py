"""``flowyml run FILE[:PIPELINE]``: run a pipeline on a stack and show what was recorded."""

from __future__ import annotations

import click

from flowyml.cli._common import echo_json, parse_key_values


@click.command()
@click.argument("target", metavar="FILE[:PIPELINE]")
@click.option("--stack", "stack_name", help="Stack to run on (default: the active stack).")
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Pipeline parameter (repeat)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded run as JSON.")
def run(target: str, stack_name: str | None, params: tuple[str, ...], as_json: bool) -> None:
    """Run the pipeline defined in FILE (name it with FILE:PIPELINE when there are several).

    A failed run exits 1 with one error line; ``flowyml --debug run`` also prints the failed
    steps' tracebacks.
    """
    from flowyml.cli.loader import load_pipeline
    from flowyml.cli.render_runs import failure_line, run_dict, run_lines
    from flowyml.cli.runs_cmd import step_costs
    from flowyml.pipeline import ParameterizedPipeline
    from flowyml.stacks.registry import resolve_stack

    pipe = load_pipeline(target)
    raw = parse_key_values(params, "--param")
    if not as_json:
        _show_progress()
    stack = resolve_stack(stack_name, None) if stack_name else None
    try:
        if isinstance(pipe, ParameterizedPipeline):
            result = pipe.run(stack=stack, **pipe.parse_params(raw))
        else:
            result = pipe.run(stack=stack, **raw)
    except KeyboardInterrupt:
        # The runner has recorded the run `cancelled` before re-raising: say where it is.
        click.echo(
            f"Interrupted: the run was recorded as cancelled "
            f"(see `flowyml runs list --pipeline {pipe.name}`).",
            err=True,
        )
        raise SystemExit(130) from None
    from flowyml.runtime.binding import bind_stack

    declared = resolve_stack(stack, pipe.stack)
    record = bind_stack(declared).metadata_store.get_run(result.run_id)
    costs = step_costs(record)
    if as_json:
        echo_json(run_dict(record, costs))
    else:
        click.echo()
        ctx_obj = click.get_current_context().find_root().obj or {}
        for line in run_lines(record, costs, tracebacks=bool(ctx_obj.get("debug"))):
            click.echo(line)
        click.echo(f"\nSee it again with: flowyml runs show {record.run_id[:12]}")
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
