"""Pipelines as values: ``Pipeline`` (a ``with`` block) and ``@pipeline`` (a parameterised body).

A :class:`Pipeline` records its DAG while its ``with`` block runs and is then frozen; ``run``
hands it to the run facade (:mod:`flowyml.launch`, reached through
:mod:`flowyml.core.launcher`), which resolves the stack (run argument > ``Pipeline(stack=)``
> active stack > local stack), binds it and runs it. Authoring imports nothing from the stacks'
registry or the runtime (an import-linter layers contract keeps it so).
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, overload

from flowyml.pipeline.dag import DAG, DAGBuilder, activate, deactivate
from flowyml.pipeline.errors import PipelineDefinitionError, PipelineParameterError
from flowyml.pipeline.result import PipelineResult


class Pipeline:
    """A named DAG of step invocations plus how to run it.

    Args:
        name: Pipeline name (also the first segment of every artifact key).
        enable_cache: ``False`` to run every step even when a cached result exists.
        stack: A ``Stack`` or registered stack name to run on by default.
        max_workers: Steps run at once per stack (default: one per step up to 32 for threads,
            the CPU count for processes).
        use_processes: Run each step attempt in a child process (CPU-bound steps; outputs must
            be picklable) instead of a thread.

    Example:
        >>> with Pipeline("demo") as p:
        ...     model = train(load(), epochs=5)
        >>> result = p.run()
    """

    def __init__(
        self,
        name: str,
        *,
        enable_cache: bool = True,
        stack: Any = None,
        max_workers: int | None = None,
        use_processes: bool = False,
    ) -> None:
        if not name or "/" in name:
            raise PipelineDefinitionError(
                f"invalid pipeline name {name!r}.", hint="use a non-empty name without '/'."
            )
        if max_workers is not None and max_workers < 1:
            raise PipelineDefinitionError(f"pipeline '{name}': max_workers must be >= 1.")
        self.name = name
        self.enable_cache = enable_cache
        self.stack = stack
        self.max_workers = max_workers
        self.use_processes = use_processes
        self.params: dict[str, Any] = {}
        self._builder = DAGBuilder(name)
        self._dag: DAG | None = None
        self._token: Any = None

    def __enter__(self) -> Pipeline:
        if self._dag is not None or self._token is not None:
            raise PipelineDefinitionError(
                f"pipeline '{self.name}' was already declared.",
                hint="create a new Pipeline for a new graph.",
            )
        self._token = activate(self._builder)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        deactivate(self._token)
        self._token = None
        self._dag = self._builder.build()

    @property
    def dag(self) -> DAG:
        """The recorded DAG (frozen once the ``with`` block ends)."""
        if self._token is not None:
            raise PipelineDefinitionError(
                f"pipeline '{self.name}' is still being declared.",
                hint="call run() after the `with` block.",
            )
        return self._dag if self._dag is not None else self._builder.build()

    @property
    def parameters(self) -> dict[str, Any]:
        """Declared parameters and defaults (none for a plain ``Pipeline``)."""
        return {}

    def run(self, stack: Any = None, **params: Any) -> PipelineResult:
        """Run the pipeline and return its result (a failed run is returned, not raised).

        Args:
            stack: A ``Stack`` or stack name overriding the pipeline's own stack.
            **params: Not accepted by a plain ``Pipeline`` (use ``@pipeline``).

        Raises:
            PipelineParameterError: a parameter was given.
            KeyboardInterrupt: after recording the run ``cancelled``.
        """
        if params:
            raise PipelineParameterError(
                f"pipeline '{self.name}' takes no parameters, got: {', '.join(sorted(params))}.",
                hint="declare it with @pipeline to give it parameters.",
            )
        dag = self.dag
        if not len(dag):
            # Still bound and recorded: an empty run proves the stack is usable (the guide runs
            # `Pipeline("my_pipeline").run(stack=...)` before any step is declared).
            warnings.warn(
                f"pipeline '{self.name}' has no steps: the run records nothing but itself "
                "(call @step functions inside its `with` block to add steps)",
                UserWarning,
                stacklevel=2,
            )
        from flowyml.core.launcher import launch

        result: PipelineResult = launch(self, stack, self.params)
        return result

    def __repr__(self) -> str:
        steps = len(self._dag) if self._dag is not None else "?"
        return f"<Pipeline {self.name!r} steps={steps}>"


class ParameterizedPipeline:
    """A pipeline whose body is a function of parameters (made by ``@pipeline``).

    Each :meth:`run` builds a fresh :class:`Pipeline` by calling the body with the parameters.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        enable_cache: bool = True,
        stack: Any = None,
        max_workers: int | None = None,
        use_processes: bool = False,
    ) -> None:
        self.func = func
        self.name = name or func.__name__
        self.enable_cache = enable_cache
        self.stack = stack
        self.max_workers = max_workers
        self.use_processes = use_processes
        self.signature = inspect.signature(func)
        self.__doc__ = func.__doc__

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameter name -> default (``inspect.Parameter.empty`` when required)."""
        return {n: p.default for n, p in self.signature.parameters.items()}

    def _check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        valid = list(self.signature.parameters)
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise PipelineParameterError(
                f"pipeline '{self.name}' has no parameter {', '.join(map(repr, unknown))}.",
                hint=f"use one of: {', '.join(valid) or '(none)'}.",
            )
        try:
            bound = self.signature.bind(**params)
        except TypeError as exc:
            raise PipelineParameterError(
                f"pipeline '{self.name}': {exc}.", hint=f"parameters are {', '.join(valid)}."
            ) from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def parse_params(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Convert ``--param k=v`` strings using each parameter's annotation or default type.

        ``int``/``float``/``bool`` parameters are converted; anything else is tried as JSON
        and kept as the string when that fails.
        """
        self._check({k: None for k in raw} if raw else {})
        out: dict[str, Any] = {}
        for key, text in raw.items():
            param = self.signature.parameters[key]
            kind: Any = param.annotation
            if isinstance(kind, str):
                kind = {"int": int, "float": float, "bool": bool, "str": str}.get(kind)
            if kind in (inspect.Parameter.empty, None) and param.default is not param.empty:
                kind = type(param.default)
            try:
                if kind is bool:
                    out[key] = text.strip().lower() in {"1", "true", "yes", "on"}
                elif kind in (int, float, str):
                    out[key] = kind(text)
                else:
                    out[key] = json.loads(text)
            except ValueError:
                if kind in (int, float):
                    raise PipelineParameterError(
                        f"parameter '{key}' of pipeline '{self.name}' must be "
                        f"{kind.__name__}, got {text!r}."
                    ) from None
                out[key] = text
        return out

    def build(self, **params: Any) -> Pipeline:
        """Declare the pipeline for ``params`` (unknown names raise one-line errors)."""
        values = self._check(params)
        pipe = Pipeline(
            self.name,
            enable_cache=self.enable_cache,
            stack=self.stack,
            max_workers=self.max_workers,
            use_processes=self.use_processes,
        )
        pipe.params = values
        with pipe:
            self.func(**values)
        return pipe

    def run(self, stack: Any = None, **params: Any) -> PipelineResult:
        """Build the pipeline with ``params`` and run it (see :meth:`Pipeline.run`)."""
        return self.build(**params).run(stack=stack)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the body directly (inside another pipeline, its steps join that pipeline)."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pipeline {self.name!r}{self.signature}>"


@overload
def pipeline(func: Callable[..., Any], /) -> ParameterizedPipeline: ...


@overload
def pipeline(
    func: None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool = True,
    stack: Any = None,
    max_workers: int | None = None,
    use_processes: bool = False,
) -> Callable[[Callable[..., Any]], ParameterizedPipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool = True,
    stack: Any = None,
    max_workers: int | None = None,
    use_processes: bool = False,
) -> ParameterizedPipeline | Callable[[Callable[..., Any]], ParameterizedPipeline]:
    """Declare a parameterised pipeline: ``@pipeline def train(epochs: int = 3): ...``.

    Then ``train.run(epochs=5)``; the options are those of :class:`Pipeline`.
    """

    def wrap(f: Callable[..., Any]) -> ParameterizedPipeline:
        return ParameterizedPipeline(
            f,
            name=name,
            enable_cache=enable_cache,
            stack=stack,
            max_workers=max_workers,
            use_processes=use_processes,
        )

    return wrap(func) if func is not None else wrap
