"""``flowyml compile FILE[:PIPELINE] --stack NAME``: the orchestrator's native artifact."""

from __future__ import annotations

from pathlib import Path

import click

from flowyml.cli.completion import complete_stack_names


@click.command("compile")
@click.argument("target", metavar="FILE[:PIPELINE]", type=click.Path(dir_okay=False))
@click.option(
    "--stack",
    "stack_name",
    help="Stack whose orchestrator compiles it (default: the pipeline's, else the active one).",
    shell_complete=complete_stack_names,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: <pipeline>.yaml for KFP, the DAG file name for Airflow).",
)
@click.option(
    "--param", "params", multiple=True, metavar="KEY=VALUE", help="Pipeline parameter (repeat)."
)
def compile_(
    target: str, stack_name: str | None, output: Path | None, params: tuple[str, ...]
) -> None:
    """Compile the pipeline in FILE for the stack's orchestrator, without running it.

    Vertex AI Pipelines and Kubeflow get a KFP v2 pipeline spec (YAML), Airflow a DAG file.
    The code package is uploaded to the stack's artifact store and the manifest the tasks read
    is written there; the image is only planned (its content-hash tag): `flowyml build` or
    `flowyml run` builds and pushes it.
    """
    from flowyml.cli._common import parse_key_values
    from flowyml.cli.loader import load_pipeline
    from flowyml.pipeline import ParameterizedPipeline
    from flowyml.runtime.binding import bind_stack
    from flowyml.runtime.orchestrators.driver import compile_pipeline, default_output
    from flowyml.stacks.registry import resolve_stack

    pipe = load_pipeline(target)
    raw = parse_key_values(params, "--param")
    values = pipe.parse_params(raw) if isinstance(pipe, ParameterizedPipeline) else raw
    runnable = pipe.build(**values) if isinstance(pipe, ParameterizedPipeline) else pipe
    bound = bind_stack(resolve_stack(stack_name, pipe.stack))
    compiled = compile_pipeline(
        runnable,
        bound,
        output or default_output(runnable.name, bound),
        params=values,
        build=False,
    )
    click.echo(
        f"{compiled.artifact} ({compiled.engine.kind}, {len(compiled.manifest.steps)} steps, "
        f"image {compiled.manifest.image})"
    )
