"""``flowyml runs logs RUN [STEP]``: what each step printed, wherever it ran."""

from __future__ import annotations

import click

from flowyml.cli import term
from flowyml.cli._common import echo_json
from flowyml.cli.completion import complete_run_ids, store_stack_option


@click.command("logs")
@click.argument("run_id", shell_complete=complete_run_ids)
@click.argument("step", required=False)
@store_stack_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def logs(run_id: str, step: str | None, stack_name: str | None, as_json: bool) -> None:
    """Print the captured stdout/stderr of a run's steps (or of one STEP).

    Local steps, container steps and remote jobs keep their output the same way: as a text
    artifact next to the step's outputs (the last attempt's).
    """
    from flowyml.cli.run_sources import find_run

    run, source = find_run(run_id, stack_name)
    steps = list(run.steps)
    if step is not None:
        steps = [s for s in steps if s.name == step]
        if not steps:
            names = ", ".join(s.name for s in run.steps) or "none"
            raise click.UsageError(f"run {run.run_id[:12]} has no step {step!r} (steps: {names})")
    store = source.bound.artifact_store
    texts: dict[str, str | None] = {}
    for record in steps:
        raw = store.get_bytes(record.log_uri) if record.log_uri else None
        texts[record.name] = raw.decode("utf-8", errors="replace") if raw is not None else None
    if as_json:
        echo_json({"run_id": run.run_id, "logs": texts})
        return
    lines: list[str] = []
    for record in steps:
        where = f", {record.executor}" if record.executor else ""
        header = f"== {record.name} ({term.status_style(str(record.status))}{where})"
        lines.append(click.style(header, bold=True))
        text = texts[record.name]
        if text is None:
            lines.append("(no output kept: the step printed nothing, or never ran)")
        else:
            lines.extend(text.rstrip("\n").splitlines() or [""])
    term.echo(lines)
