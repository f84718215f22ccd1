"""Executors: the strategies that run a bound stack's steps, one module per flavor.

``local`` (threads or forked processes on this machine) and ``docker`` (a container per step on
a local or remote Docker engine). Which module serves a declaration is the flavor table's
business (:mod:`flowyml.stacks.flavors`); :func:`load_runtime` imports it, and a kind without a
runtime is refused there, before any step runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flowyml.runtime.errors import BindingError

if TYPE_CHECKING:
    from flowyml.stacks.flavors import Flavor

# The flavor table (pydantic declarations) is imported where it is used, not with this package:
# the step entrypoint imports executors.capture and must start fast.

__all__ = ["load_runtime", "resolve_executor_flavor"]


def resolve_executor_flavor(stack_name: str, declaration: Any) -> Flavor:
    """The flavor of a stack's executor declaration, refusing kinds with no runtime.

    Raises:
        BindingError: the kind is unknown, or flowyml has no runtime for it yet.
    """
    from flowyml.stacks.flavors import executor_flavor

    kind = str(getattr(declaration, "kind", None) or "local")
    found = executor_flavor(kind)
    if found is None:
        raise BindingError(
            f"stack {stack_name}: executor kind {kind!r} is not one flowyml knows",
            hint="use one of: local, docker, remote, kubernetes, vertex_ai",
        )
    if found.runtime is None:
        raise BindingError(
            f"stack {stack_name}: executor {kind!r} ({found.label}) has no runtime in this "
            "flowyml, so its steps cannot run anywhere; nothing was run",
            hint="declare executor: local or docker on this stack, or use a flowyml release "
            f"that runs {found.label}",
        )
    return found


def load_runtime(found: Flavor) -> ModuleType:
    """The module running ``found`` (it exposes ``create(bound, max_workers, use_processes)``)."""
    assert found.runtime is not None  # resolve_executor_flavor refused the others
    return importlib.import_module(found.runtime)
