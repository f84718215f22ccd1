"""The pipeline graph: output handles, step invocations and the immutable DAG built from them.

A :class:`DAGBuilder` is active (through a context variable) inside ``with Pipeline(...)``; a step
called there records an :class:`Invocation` and returns :class:`OutputHandle` placeholders instead
of running. Edges come only from data: a handle passed (possibly inside a list, tuple or dict) as
an argument makes its producer an upstream of the consumer. Invocation names are unique in a DAG
(``train``, ``train_2``, ...). The finished :class:`DAG` is a frozen value sorted with
:mod:`graphlib`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING, Any

from flowyml.pipeline.errors import PipelineDefinitionError, StepOutputUsedAsValueError

if TYPE_CHECKING:
    from flowyml.pipeline.step import Step

_builder_ids = itertools.count(1)


@dataclass(frozen=True)
class OutputHandle:
    """A placeholder for one output of one step invocation, valid inside its own pipeline.

    Attributes:
        invocation: Name of the producing invocation (``train_2``).
        output: Output name (``output`` for a single output, ``output_0``... for tuples).
        builder_id: Identity of the pipeline the handle belongs to.
    """

    invocation: str
    output: str
    builder_id: int = field(repr=False, compare=True)

    def __repr__(self) -> str:
        return f"<output {self.invocation}.{self.output}>"

    def __bool__(self) -> bool:
        raise PipelineDefinitionError(
            f"the output of step '{self.invocation}' has no value while the pipeline is being "
            "declared, so it cannot be used in an if or a boolean test.",
            hint="branch inside a step instead of in the pipeline body.",
        )

    def _as_value(self, *_: object) -> Any:
        raise StepOutputUsedAsValueError(
            f"the output of step '{self.invocation}' is used as a value in the pipeline body, "
            "but while a pipeline is declared a step call returns a handle to its future output, "
            "not the value: arithmetic, comparisons, indexing and unpacking on it cannot work.",
            hint="do the computation inside a step: pass the output to a @step function that "
            "computes and returns the result.",
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _as_value
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _as_value
    __pow__ = __rpow__ = __neg__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = _as_value
    __getitem__ = __iter__ = __len__ = __float__ = __int__ = _as_value


@dataclass(frozen=True)
class Invocation:
    """One call of a step inside a pipeline.

    Attributes:
        name: Unique invocation name within the DAG.
        step: The step called.
        arguments: Bound arguments by parameter name (handles in place of upstream values).
        inputs: ``(input label, handle)`` pairs in argument order; labels are parameter names,
            with ``[i]`` / ``[key]`` suffixes for handles nested in lists, tuples or dicts.
        upstream: Names of the invocations whose outputs this one consumes.
    """

    name: str
    step: Step
    arguments: Mapping[str, Any]
    inputs: tuple[tuple[str, OutputHandle], ...]
    upstream: tuple[str, ...]

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of this invocation's outputs."""
        return self.step.output_names


@dataclass(frozen=True)
class DAG:
    """An immutable graph of invocations, in the order they were declared."""

    invocations: tuple[Invocation, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {inv.name: inv for inv in self.invocations})

    def __len__(self) -> int:
        return len(self.invocations)

    def __iter__(self) -> Iterator[Invocation]:
        return iter(self.invocations)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    def __getitem__(self, name: str) -> Invocation:
        by_name: dict[str, Invocation] = self._by_name  # type: ignore[attr-defined]
        return by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Invocation names in declaration order."""
        return tuple(inv.name for inv in self.invocations)

    def graph(self) -> dict[str, tuple[str, ...]]:
        """``name -> upstream names``, the shape :class:`graphlib.TopologicalSorter` takes."""
        return {inv.name: inv.upstream for inv in self.invocations}

    def topological_order(self) -> tuple[str, ...]:
        """A static topological order (the runner itself schedules dynamically)."""
        try:
            return tuple(TopologicalSorter(self.graph()).static_order())
        except CycleError as exc:  # cannot happen through handles; guards hand-built DAGs
            raise PipelineDefinitionError(f"the pipeline has a cycle: {exc.args[1]}.") from exc

    def downstream(self, name: str) -> set[str]:
        """Every invocation that depends, directly or not, on ``name``."""
        children: dict[str, list[str]] = {}
        for inv in self.invocations:
            for up in inv.upstream:
                children.setdefault(up, []).append(inv.name)
        found: set[str] = set()
        todo = [name]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def consumers(self) -> dict[tuple[str, str], int]:
        """How many inputs consume each ``(invocation, output)``; used to free values early."""
        counts: dict[tuple[str, str], int] = {}
        for inv in self.invocations:
            for _, handle in inv.inputs:
                key = (handle.invocation, handle.output)
                counts[key] = counts.get(key, 0) + 1
        return counts


def _find_handles(label: str, value: Any) -> Iterator[tuple[str, OutputHandle]]:
    if isinstance(value, OutputHandle):
        yield label, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _find_handles(f"{label}[{i}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _find_handles(f"{label}[{key}]", item)


def substitute(value: Any, resolve: Mapping[OutputHandle, Any]) -> Any:
    """``value`` with every handle (also inside lists, tuples and dicts) replaced by its value."""
    if isinstance(value, OutputHandle):
        return resolve[value]
    if isinstance(value, list):
        return [substitute(item, resolve) for item in value]
    if isinstance(value, tuple):
        return tuple(substitute(item, resolve) for item in value)
    if isinstance(value, dict):
        return {key: substitute(item, resolve) for key, item in value.items()}
    return value


class DAGBuilder:
    """Collects invocations while a pipeline body runs."""

    def __init__(self, pipeline_name: str) -> None:
        self.pipeline_name = pipeline_name
        self.builder_id = next(_builder_ids)
        self._invocations: list[Invocation] = []
        self._name_counts: dict[str, int] = {}

    def add(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Record one call of ``step`` and return its handle, or a tuple of handles."""
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(
                f"cannot call step '{step.name}' in pipeline '{self.pipeline_name}': {exc}.",
                hint=f"pass the arguments `{step.name}{step.signature}` expects.",
            ) from None
        inputs: list[tuple[str, OutputHandle]] = []
        for param, value in bound.arguments.items():
            inputs.extend(_find_handles(param, value))
        for label, handle in inputs:
            if handle.builder_id != self.builder_id:
                raise PipelineDefinitionError(
                    f"argument '{label}' of step '{step.name}' is an output of another pipeline "
                    f"({handle.invocation}).",
                    hint="pass outputs only between steps declared in the same pipeline.",
                )
        name = self._unique_name(step.name)
        upstream = tuple(dict.fromkeys(handle.invocation for _, handle in inputs))
        self._invocations.append(
            Invocation(name, step, dict(bound.arguments), tuple(inputs), upstream)
        )
        handles = tuple(OutputHandle(name, out, self.builder_id) for out in step.output_names)
        return handles[0] if len(handles) == 1 else handles

    def _unique_name(self, base: str) -> str:
        count = self._name_counts.get(base, 0) + 1
        self._name_counts[base] = count
        return base if count == 1 else f"{base}_{count}"

    def build(self) -> DAG:
        """The immutable DAG of everything recorded so far."""
        return DAG(tuple(self._invocations))


_current: ContextVar[DAGBuilder | None] = ContextVar("flowyml_dag_builder", default=None)


def current_builder() -> DAGBuilder | None:
    """The builder of the pipeline being declared in this context, if any."""
    return _current.get()


def activate(builder: DAGBuilder) -> Any:
    """Make ``builder`` current; returns the token :func:`deactivate` takes."""
    return _current.set(builder)


def deactivate(token: Any) -> None:
    """Undo :func:`activate`."""
    _current.reset(token)
