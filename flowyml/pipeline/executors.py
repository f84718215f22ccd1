"""The executor seam: what the scheduling loop hands a strategy, and what it gets back.

The loop never picks a strategy itself: the bound stack of each step hands it one
(``RuntimeStack.step_executor``), and the loop only calls the :class:`StepExecutor` methods.
A strategy starts one attempt of a step (``submit``), says when that attempt really began
running (``started_at``, where its timeout clock starts), how many attempts it runs at once
(``capacity``) and stops an attempt the loop gave up on (``abandon``). ``submit`` returns a
future resolving to an :class:`Outcome`, never raising, so a failure's traceback text is
captured where the step ran.

Two kinds of outcome exist: a strategy that runs the function in this process (threads, forked
processes) returns its ``value`` and the loop saves it; a strategy that runs the step elsewhere
(a container, a pod, a cloud job) gets the outputs saved there by the step entrypoint and
returns their ``outputs`` refs, which the loop records as they are.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowyml.core.records import ArtifactRef
from flowyml.pipeline.dag import OutputHandle


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced.

    Attributes:
        value: The step's return value (strategies that run the function in this process).
        error: The formatted traceback or reason of a failure; ``None`` on success.
        outputs: Output name -> ref of outputs already saved where the step ran (remote
            strategies); ``None`` when ``value`` holds the result instead.
        log: Captured stdout/stderr text, for the loop to save (in-process strategies).
        log_uri: URI of the captured stdout/stderr already saved where the step ran.
        executor: Kind of executor the attempt really ran on (``local``, ``docker``...).
        details: Where it ran, for people (container id, host, job name, console link).
    """

    value: Any = None
    error: str | None = None
    outputs: Mapping[str, ArtifactRef] | None = None
    log: str | None = None
    log_uri: str | None = None
    executor: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepAttempt:
    """One attempt of one step, as the loop hands it to a strategy.

    In-process strategies call ``func(*args, **kwargs)``; remote strategies ship the rest: the
    raw ``arguments`` (handles in place of upstream values), the refs of the upstream outputs
    (``inputs``, keyed by handle), and where the outputs go (``output_key``).

    Attributes:
        run_id / pipeline / step / attempt: Which run, pipeline, invocation and try (from 1).
        func: The step function.
        args / kwargs: Bound arguments with upstream values loaded (in-process strategies).
        arguments: Arguments by parameter name, handles in place of upstream values.
        inputs: ``(handle, ref)`` of every upstream output the step consumes.
        output_names: The step's output names.
        output_key: Key prefix of its outputs in the artifact store (``<pipeline>/<run>/<step>``).
        resources: The step's ResourceConfig as a plain dict, if any.
        timeout: Seconds one attempt may take, or ``None``.
    """

    run_id: str
    pipeline: str
    step: str
    attempt: int
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    arguments: Mapping[str, Any] = field(default_factory=dict)
    inputs: tuple[tuple[OutputHandle, ArtifactRef], ...] = ()
    output_names: tuple[str, ...] = ("output",)
    output_key: str = ""
    resources: Mapping[str, Any] | None = None
    timeout: float | None = None


class StepExecutor(Protocol):
    """The strategy interface the scheduling loop uses.

    Attributes:
        capacity: Most attempts it runs at once.
        kind: The executor kind it runs on (``local``, ``docker``...), recorded per step.
        needs_values: True when ``submit`` uses ``args``/``kwargs`` (the loop then loads
            upstream values); False when the step loads its inputs by reference itself.
        timeout_note: How an attempt over its timeout is stopped (ends the timeout error).
    """

    capacity: int
    kind: str
    needs_values: bool
    timeout_note: str

    def submit(self, attempt: StepAttempt) -> Future[Outcome]:
        """Start one attempt; the future resolves to its :class:`Outcome`."""
        ...

    def started_at(self, future: Future[Outcome]) -> float | None:
        """``time.monotonic()`` when the attempt began running, ``None`` while it waits."""
        ...

    def abandon(self, future: Future[Outcome]) -> None:
        """Give up on a running attempt (timeout or cancellation), stopping it if it can."""
        ...

    def shutdown(self) -> None:
        """Release workers and stop whatever still runs for this run."""
        ...


def call_step(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Outcome:
    """Call ``func`` and wrap its result or traceback (runs where the step runs)."""
    try:
        return Outcome(value=func(*args, **kwargs))
    except Exception as exc:
        return Outcome(error=format_step_error(exc))


def format_step_error(exc: BaseException) -> str:
    """The traceback of a step's exception, starting in the step's own code."""
    # Skip the first frame: it is flowyml's call of the step, not the user's.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return "".join(traceback.format_exception(type(exc), exc, tb))
