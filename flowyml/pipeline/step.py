"""The ``@step`` decorator: a plain function plus how to run it (cache, retries, timeout, stack).

Calling a step inside ``with Pipeline(...)`` records an invocation and returns output handles;
anywhere else it simply calls the function, so steps stay unit-testable. A step annotated
``-> tuple[A, B]`` has two outputs (``output_0``, ``output_1``) and returns two handles; any other
step has one output named ``output``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, overload

from flowyml.pipeline.dag import current_builder
from flowyml.pipeline.errors import PipelineDefinitionError

SINGLE_OUTPUT = "output"


def _output_names(func: Callable[..., Any]) -> tuple[str, ...]:
    try:
        hints = typing.get_type_hints(func)
        ret: Any = hints.get("return")
    except Exception:  # unresolvable forward refs: fall back to the raw annotation
        ret = getattr(func, "__annotations__", {}).get("return")
    if isinstance(ret, str):
        text = ret.replace(" ", "")
        if text.startswith(("tuple[", "Tuple[", "typing.Tuple[")) and "..." not in text:
            inner = text[text.index("[") + 1 : -1]
            depth, parts = 0, 1
            for char in inner:
                depth += char == "["
                depth -= char == "]"
                parts += char == "," and depth == 0
            return tuple(f"output_{i}" for i in range(parts)) if parts > 1 else (SINGLE_OUTPUT,)
        return (SINGLE_OUTPUT,)
    if typing.get_origin(ret) is tuple:
        args = typing.get_args(ret)
        if len(args) > 1 and Ellipsis not in args:
            return tuple(f"output_{i}" for i in range(len(args)))
    return (SINGLE_OUTPUT,)


class Step:
    """A function declared as a pipeline step.

    Attributes:
        func: The wrapped function.
        name: Base invocation name (defaults to the function name).
        cache: Whether the step may be served from the cache.
        retries: Extra attempts after a failure.
        retry_delay: Seconds before the first retry; doubles after each further failure.
        timeout: Seconds one attempt may take, or ``None``.
        resources: A ``ResourceConfig`` (or mapping) recorded with the step run.
        stack: A ``Stack`` or stack name to run this step on instead of the pipeline's stack.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        cache: bool = True,
        retries: int = 0,
        retry_delay: float = 0.5,
        timeout: float | None = None,
        resources: Any = None,
        stack: Any = None,
    ) -> None:
        if not callable(func):
            raise PipelineDefinitionError(f"@step needs a function, got {type(func).__name__}.")
        if retries < 0:
            raise PipelineDefinitionError(f"step '{func.__name__}': retries must be >= 0.")
        if timeout is not None and timeout <= 0:
            raise PipelineDefinitionError(f"step '{func.__name__}': timeout must be > 0 seconds.")
        functools.update_wrapper(self, func)
        self.func = func
        self.name = name or func.__name__
        self.cache = cache
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.resources = resources
        self.stack = stack
        self.signature = inspect.signature(func)

    @functools.cached_property
    def output_names(self) -> tuple[str, ...]:
        """Output names, from the return annotation (resolved on first use)."""
        return _output_names(self.func)

    def resources_dict(self) -> Mapping[str, Any] | None:
        """The resources as a plain dict for the step record, or ``None``."""
        res = self.resources
        if res is None:
            return None
        if hasattr(res, "model_dump"):
            dumped: dict[str, Any] = res.model_dump(mode="json", exclude_none=True)
            return dumped
        return dict(res)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = current_builder()
        if builder is None:
            return self.func(*args, **kwargs)
        return builder.add(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<step {self.name}>"


@overload
def step(func: Callable[..., Any], /) -> Step: ...


@overload
def step(
    func: None = None,
    /,
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    retry_delay: float = 0.5,
    timeout: float | None = None,
    resources: Any = None,
    stack: Any = None,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    cache: bool = True,
    retries: int = 0,
    retry_delay: float = 0.5,
    timeout: float | None = None,
    resources: Any = None,
    stack: Any = None,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Declare a function as a pipeline step, bare (``@step``) or with options.

    Args:
        func: The function (when used bare).
        name: Invocation base name; defaults to the function name.
        cache: ``False`` to always run the step even when the pipeline caches.
        retries: Extra attempts after a failure (exponential backoff from ``retry_delay``).
        retry_delay: Seconds before the first retry.
        timeout: Seconds one attempt may take; an attempt over it fails with ``TimeoutError``.
        resources: A ``ResourceConfig`` recorded with (and later used to place) the step.
        stack: A ``Stack`` or registered stack name this step runs on (hybrid execution).

    Returns:
        A :class:`Step`, or a decorator making one.
    """

    def wrap(f: Callable[..., Any]) -> Step:
        return Step(
            f,
            name=name,
            cache=cache,
            retries=retries,
            retry_delay=retry_delay,
            timeout=timeout,
            resources=resources,
            stack=stack,
        )

    return wrap(func) if func is not None else wrap
