"""``flowyml build FILE[:PIPELINE]``: build and push the images a pipeline's stacks need (for CI)."""

from __future__ import annotations

import inspect
from typing import Any

import click

from flowyml.cli._common import echo_json


@click.command()
@click.argument("target", metavar="FILE[:PIPELINE]")
@click.option("--stack", "stack_name", help="Stack to build for (default: the pipeline's).")
@click.option(
    "--pip-index",
    is_flag=True,
    help="Let pip in the build reach the package index (default: wheels prepared here only).",
)
@click.option("--dry-run", is_flag=True, help="Show the image(s) and tags; build nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def build(
    target: str, stack_name: str | None, pip_index: bool, dry_run: bool, as_json: bool
) -> None:
    """Build and push the image(s) the steps of the pipeline in FILE need on their stack(s).

    A tag already on the engine or in the registry is not rebuilt. A stack whose executor is
    local needs no image, and the command says so.
    """
    from flowyml.cli.loader import load_pipeline, split_target
    from flowyml.runtime.images.for_stack import stack_image

    pipe = load_pipeline(target)
    project_dir = split_target(target)[0].resolve().parent
    progress = None if as_json else (lambda line: click.echo(f"  {line}"))
    results = []
    for stack in _stacks(pipe, stack_name):
        if not as_json:
            click.echo(f"stack {stack.name}:")
        result = stack_image(
            stack,
            project_dir=project_dir,
            build=not dry_run,
            pip_index=pip_index,
            progress=progress,
        )
        results.append(result)
        if not as_json:
            click.echo(f"  {_summary(result, dry_run)}")
    if as_json:
        echo_json([r.to_dict() for r in results])


def _stacks(pipe: Any, stack_name: str | None) -> list[Any]:
    """The pipeline's stack (or ``--stack``) and every stack a step names, each once."""
    from flowyml.pipeline import ParameterizedPipeline
    from flowyml.stacks.registry import resolve_stack

    stacks = [resolve_stack(stack_name, pipe.stack)]
    graph = pipe
    if isinstance(pipe, ParameterizedPipeline):
        # The graph (and so each step's own stack) exists once the body runs: with the defaults.
        required = [n for n, d in pipe.parameters.items() if d is inspect.Parameter.empty]
        if required:
            raise click.UsageError(
                f"pipeline {pipe.name} has required parameters ({', '.join(required)}): "
                "give them defaults so `flowyml build` can see which stacks its steps use"
            )
        graph = pipe.build()
    for invocation in graph.dag:
        if invocation.step.stack is not None:
            stacks.append(resolve_stack(invocation.step.stack))
    unique: dict[str, Any] = {}
    for stack in stacks:
        unique.setdefault(stack.name, stack)
    return list(unique.values())


def _summary(result: Any, dry_run: bool) -> str:
    if result.reason:
        return f"nothing to build: {result.reason}"
    if dry_run:
        plan = result.plan
        if not plan.builds:
            return f"would use {plan.reference} as is"
        where = f", pushed to {plan.registry}" if plan.registry else ", kept on the engine"
        return f"would build {plan.reference} from {plan.base}{where}"
    image = result.image
    done = "built" if image.built else "up to date"
    if image.pushed:
        done += " and pushed"
    return f"{image.reference}: {done}"


__all__ = ["build"]
