"""Authoring and running pipelines: ``step``, ``Pipeline``, ``pipeline`` and the runner."""

from __future__ import annotations

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
