"""How ``Pipeline.run`` reaches the layer that resolves, binds and runs (the run facade).

Authoring knows nothing of stacks or runtimes: the ``flowyml`` package registers a launcher here
when it is imported (one that imports :mod:`flowyml.launch` on first use, so importing flowyml
stays cheap), and ``Pipeline.run`` calls whatever is registered.

While the step entrypoint imports a user's pipeline file to find a step, runs are suppressed:
a module-level ``pipeline.run()`` raises :class:`RunSuppressed` (a ``BaseException``, so a user's
``except Exception`` does not swallow it), which the entrypoint catches, keeping everything the
module defined before that line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Launcher = Callable[..., Any]

_launcher: Launcher | None = None
_suppressed: ContextVar[bool] = ContextVar("flowyml_runs_suppressed", default=False)


class RunSuppressed(BaseException):
    """Raised by ``Pipeline.run`` while the step entrypoint imports a pipeline file."""


def register(launcher: Launcher) -> None:
    """Make ``launcher(pipeline, stack, params)`` the function ``Pipeline.run`` calls."""
    global _launcher
    _launcher = launcher


def launch(pipeline: Any, stack: Any, params: Any) -> Any:
    """Run ``pipeline`` through the registered launcher."""
    if _suppressed.get():
        raise RunSuppressed
    if _launcher is None:  # `import flowyml` registers it before any of its subpackages loads
        raise RuntimeError("no run launcher is registered: is the flowyml install complete?")
    return _launcher(pipeline, stack, params)


@contextmanager
def runs_suppressed() -> Iterator[None]:
    """Within this block ``Pipeline.run`` raises :class:`RunSuppressed` instead of running."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)
