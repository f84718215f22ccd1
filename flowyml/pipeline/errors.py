"""The pipeline package's error tree: one root, :class:`PipelineError`, and a few children.

Every message is one line; a ``To fix:`` hint follows when there is something to do.
"""

from __future__ import annotations

from flowyml.core.errors import FlowymlError


class PipelineError(FlowymlError):
    """Root of every error raised on purpose by :mod:`flowyml.pipeline`."""


class PipelineDefinitionError(PipelineError):
    """A pipeline or step is declared or called in a way that cannot build a DAG."""


class StepOutputUsedAsValueError(PipelineDefinitionError, TypeError):
    """A step's output (an ``OutputHandle``) was used as a value in the pipeline body.

    Also a ``TypeError``, as the operation would have raised without flowyml's explanation.
    """


class PipelineParameterError(PipelineError):
    """A parameterised pipeline was given a parameter it does not declare."""


class StepFailedError(PipelineError):
    """A run finished without success; raised by :meth:`PipelineResult.raise_for_status`."""


class StepOutputError(PipelineError):
    """A step's return value does not match its declared outputs."""
