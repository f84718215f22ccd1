"""The run facade: resolve a run's stacks, bind them, prepare what leaves the laptop, run.

``Pipeline.run`` reaches :func:`run` through :mod:`flowyml.core.launcher`; ``flowyml run``
calls it too. Steps are routed to their own ``@step(stack=...)`` stack or the pipeline's.
Stacks whose executor runs steps elsewhere get a submission first (code package uploaded, image
built or reused), once per stack and run, before any step starts: a stack that cannot run is
refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["bind_for_run", "run"]


def bind_for_run(
    pipeline: Any, stack: Any = None, *, progress: Callable[[str], None] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Bind the pipeline's stack and every step's own stack, with submissions prepared.

    Args:
        progress: Called with each line of build/push/upload progress; by default the lines
            go to the ``flowyml.run`` logger at INFO (``flowyml run`` shows them).

    Returns:
        ``(pipeline stack, {invocation name: bound stack})`` for the steps declared on
        another stack.

    Raises:
        FlowymlError: a stack cannot be resolved, bound or prepared (one line, nothing run).
    """
    from flowyml.runtime.binding import bind_stack, require_runnable
    from flowyml.runtime.executors.remote import check_steps
    from flowyml.runtime.submission import prepare_submission
    from flowyml.stacks.registry import resolve_stack

    if progress is None:
        import logging

        progress = logging.getLogger("flowyml.run").info
    declared = resolve_stack(stack, getattr(pipeline, "stack", None))
    bound: dict[str, Any] = {declared.name: bind_stack(declared)}
    routes: dict[str, str] = {}
    for inv in pipeline.dag:
        if inv.step.stack is None:
            continue
        step_decl = resolve_stack(inv.step.stack, None)
        if step_decl.name not in bound:
            bound[step_decl.name] = bind_stack(step_decl)
        routes[inv.name] = step_decl.name
    for runtime in bound.values():
        require_runnable(runtime)
    for name, runtime in list(bound.items()):
        steps = [inv.step for inv in pipeline.dag if routes.get(inv.name, declared.name) == name]
        if not steps:
            continue
        check_steps(runtime, steps)  # the executor's refusals and warnings, before any build
        if runtime.remote:
            bound[name] = prepare_submission(runtime, steps, progress=progress)
    return bound[declared.name], {inv: bound[name] for inv, name in routes.items()}


def run(pipeline: Any, stack: Any = None, params: Mapping[str, Any] | None = None) -> Any:
    """Run ``pipeline`` on ``stack`` (see the module docstring); returns its result.

    A stack with an orchestrator gets the whole pipeline instead of flowyml's loop
    (:mod:`flowyml.runtime.orchestrators.driver`).
    """
    from flowyml.pipeline.runner import run_pipeline
    from flowyml.runtime.orchestrators.launch import orchestrated_run

    handed = orchestrated_run(pipeline, stack, params)
    if handed is not None:
        return handed
    runtime, step_stacks = bind_for_run(pipeline, stack)
    return run_pipeline(pipeline, runtime, step_stacks=step_stacks, params=params)
