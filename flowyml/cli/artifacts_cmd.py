"""``flowyml artifacts show RUN STEP[.OUTPUT]``: print one step output, or save its payload."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from flowyml.cli import term
from flowyml.cli.completion import complete_run_ids, store_stack_option
from flowyml.core.errors import FlowymlError


class ArtifactNotFoundError(FlowymlError):
    """The run has no such step or output."""


@click.group("artifacts")
def artifacts() -> None:
    """Print or save the outputs steps recorded."""
    term.route_warnings()


def _pick(run: Any, target: str) -> tuple[Any, str, Any]:
    """The step, output name and ref ``STEP[.OUTPUT]`` names in ``run``."""
    steps = {step.name: step for step in run.steps}
    name, _, output = target.partition(".")
    if name not in steps:
        raise ArtifactNotFoundError(
            f"run {run.run_id[:12]} has no step {name!r} (steps: {', '.join(steps) or 'none'})",
            hint=f"name one of them: `flowyml artifacts show {run.run_id[:12]} STEP`",
        )
    step = steps[name]
    outputs = dict(step.outputs)
    if not outputs:
        why = f"it {step.status.value}" if step.status.value != "completed" else "it returned none"
        raise ArtifactNotFoundError(f"step {name!r} recorded no output ({why})")
    if not output:
        if len(outputs) > 1:
            raise ArtifactNotFoundError(
                f"step {name!r} has several outputs ({', '.join(outputs)})",
                hint=f"name one: `flowyml artifacts show {run.run_id[:12]} {name}.OUTPUT`",
            )
        output = next(iter(outputs))
    if output not in outputs:
        raise ArtifactNotFoundError(
            f"step {name!r} has no output {output!r} (outputs: {', '.join(outputs)})",
            hint=f"name one: `flowyml artifacts show {run.run_id[:12]} {name}.OUTPUT`",
        )
    return step, output, outputs[output]


def _payload(store: Any, ref: Any) -> bytes:
    """The stored bytes of ``ref``, checked against its recorded hash."""
    from flowyml.runtime.errors import ArtifactError

    try:
        data: bytes = store.filesystem.cat_file(ref.uri)
    except FileNotFoundError:
        raise ArtifactError(
            f"artifact not found: {ref.uri}",
            hint="re-run the step that produced it",
        ) from None
    if "sha256:" + hashlib.sha256(data).hexdigest() != ref.content_hash:
        raise ArtifactError(f"artifact {ref.uri} is corrupt: content hash does not match")
    return data


def _text(value: Any) -> str:
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        rows, cols = value.shape
        return f"DataFrame: {rows} rows x {cols} columns\n{value.head(20)}"
    if kind.__module__.startswith("numpy") and kind.__name__ == "ndarray":
        return f"ndarray: shape {tuple(value.shape)}, dtype {value.dtype}\n{value!r}"
    try:
        return json.dumps(value, indent=2, default=str)
    except (TypeError, ValueError):
        return repr(value)


@artifacts.command("show")
@click.argument("run_id", metavar="RUN", shell_complete=complete_run_ids)
@click.argument("target", metavar="STEP[.OUTPUT]")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the stored payload (JSON, .npy, Parquet, pickle...) to FILE instead.",
)
@store_stack_option()
def show_artifact(run_id: str, target: str, out: Path | None, stack_name: str | None) -> None:
    """Print one output of a run's step (OUTPUT when the step returned several), or save it."""
    from flowyml.cli.previews import human_size, short_type
    from flowyml.cli.run_sources import find_run

    run, source = find_run(run_id, stack_name)
    step, output, ref = _pick(run, target)
    store = source.bound.artifact_store
    if out is not None:
        data = _payload(store, ref)
        out.write_bytes(data)
        click.echo(
            f"Saved {step.name}.{output} ({short_type(ref.type_name)}, {ref.materializer}, "
            f"{human_size(len(data))}) to {out}"
        )
        return
    if ref.materializer == "bytes":
        raise click.UsageError(
            f"{step.name}.{output} is {human_size(ref.size)} of bytes: save it with --out FILE"
        )
    term.echo(_text(store.load(ref)))
