"""What ``pipeline.run()`` returns: the run's status, its step records and lazy output access."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowyml.core.records import ArtifactRef, RunStatus, StepRecord, StepStatus
from flowyml.pipeline.errors import PipelineError, StepFailedError

_PRODUCED = (StepStatus.COMPLETED, StepStatus.CACHED)


@dataclass
class PipelineResult:
    """The outcome of one run.

    ``result["train"]`` loads the output of invocation ``train`` from its artifact store (a
    tuple for multi-output steps); loaded values are kept for later lookups.

    Attributes:
        run_id: Identifier of the run in the metadata store.
        pipeline: Pipeline name.
        status: Final run status.
        steps: Invocation name -> final :class:`StepRecord`, in declaration order.
        stack: Name of the pipeline's stack.
        error: One-line summary of why the run did not complete, if it did not.
    """

    run_id: str
    pipeline: str
    status: RunStatus
    steps: Mapping[str, StepRecord]
    stack: str | None = None
    error: str | None = None
    _loader: Callable[[str, ArtifactRef], Any] | None = field(default=None, repr=False)
    _values: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the run completed."""
        return self.status is RunStatus.COMPLETED

    @property
    def cached(self) -> tuple[str, ...]:
        """Names of the steps served from the cache."""
        return tuple(name for name, rec in self.steps.items() if rec.cached)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the steps that failed."""
        return tuple(n for n, r in self.steps.items() if r.status is StepStatus.FAILED)

    def output(self, step: str, output: str | None = None) -> Any:
        """Load one output of ``step`` (its only output when ``output`` is ``None``)."""
        record = self._record(step)
        if output is None:
            if len(record.outputs) != 1:
                return tuple(self.output(step, name) for name in record.outputs)
            output = next(iter(record.outputs))
        if output not in record.outputs:
            raise PipelineError(
                f"step '{step}' has no output '{output}'.",
                hint=f"use one of: {', '.join(record.outputs)}.",
            )
        key = (step, output)
        if key not in self._values:
            if self._loader is None:
                raise PipelineError(f"outputs of run {self.run_id} cannot be loaded here.")
            self._values[key] = self._loader(step, record.outputs[output])
        return self._values[key]

    def __getitem__(self, step: str) -> Any:
        return self.output(step)

    def _record(self, step: str) -> StepRecord:
        record = self.steps.get(step)
        if record is None:
            raise PipelineError(
                f"run {self.run_id} has no step '{step}'.",
                hint=f"use one of: {', '.join(self.steps)}.",
            )
        if record.status not in _PRODUCED:
            raise PipelineError(
                f"step '{step}' has no outputs: it ended {record.status}.",
                hint=f"see `flowyml runs show {self.run_id}`.",
            )
        return record

    def raise_for_status(self) -> PipelineResult:
        """Return ``self`` if the run completed, else raise :class:`StepFailedError`."""
        if not self.ok:
            raise StepFailedError(
                f"run {self.run_id} of pipeline '{self.pipeline}' {self.status}: {self.error}",
                hint=f"see `flowyml runs show {self.run_id}`.",
            )
        return self

    def __repr__(self) -> str:
        return (
            f"PipelineResult(pipeline={self.pipeline!r}, run_id={self.run_id!r}, "
            f"status={self.status.value!r}, steps={len(self.steps)}, cached={len(self.cached)})"
        )
