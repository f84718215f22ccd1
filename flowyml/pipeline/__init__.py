"""Authoring and running pipelines: ``step``, ``Pipeline``, ``pipeline`` and the runner."""

from __future__ import annotations

import sys
import types
from typing import Any

from flowyml.pipeline.authoring import ParameterizedPipeline, Pipeline, pipeline
from flowyml.pipeline.errors import (
    PipelineDefinitionError,
    PipelineError,
    PipelineParameterError,
    StepFailedError,
    StepOutputError,
)
from flowyml.pipeline.result import PipelineResult
from flowyml.pipeline.step import Step, step

__all__ = [
    "ParameterizedPipeline",
    "Pipeline",
    "PipelineDefinitionError",
    "PipelineError",
    "PipelineParameterError",
    "PipelineResult",
    "Step",
    "StepFailedError",
    "StepOutputError",
    "pipeline",
    "step",
]


class _CallablePackage(types.ModuleType):
    """Lets the package double as the ``@pipeline`` decorator.

    ``flowyml.pipeline`` names both this subpackage and the decorator; once the subpackage is
    imported, Python binds the package to that name, so the package forwards calls.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return pipeline(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
