"""The run facade's branch for stacks with an orchestrator (kept light: no engine SDK here).

:func:`orchestrated_run` returns ``None`` for a stack without an orchestrator (flowyml's own
loop runs it) and otherwise hands the whole pipeline to the driver. ``flowyml run --detach``
sets :func:`detached` around the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_DETACH: ContextVar[bool] = ContextVar("flowyml_detach", default=False)


@contextmanager
def detached(on: bool = True) -> Iterator[None]:
    """Runs started inside return once submitted, without following the engine."""
    token = _DETACH.set(on)
    try:
        yield
    finally:
        _DETACH.reset(token)


def orchestrated_run(pipeline: Any, stack: Any, params: Mapping[str, Any] | None) -> Any | None:
    """The run's result when its stack has an orchestrator, else ``None``.

    Raises:
        OrchestratorError: steps declare their own stacks (an orchestrator runs the whole
            pipeline), or the stack's orchestrator and executor do not fit.
    """
    from flowyml.stacks.registry import resolve_stack

    declared = resolve_stack(stack, getattr(pipeline, "stack", None))
    kind = str(getattr(getattr(declared, "orchestrator", None), "kind", None) or "none")
    if kind == "none":
        return None
    from flowyml.runtime.binding import bind_stack
    from flowyml.runtime.orchestrators.driver import run_orchestrated
    from flowyml.runtime.orchestrators.errors import OrchestratorError

    routed = sorted(inv.name for inv in pipeline.dag if inv.step.stack is not None)
    if routed:
        raise OrchestratorError(
            f"stack {declared.name} hands the whole pipeline to its orchestrator ({kind}), "
            f"but step(s) {', '.join(routed)} declare their own stack; nothing was run",
            hint="remove stack= from those steps, or run on a stack without an orchestrator",
        )
    return run_orchestrated(pipeline, bind_stack(declared), params, detach=_DETACH.get())
