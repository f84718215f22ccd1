"""The orchestrators' one error: a pipeline cannot be compiled, submitted or followed."""

from __future__ import annotations

from flowyml.runtime.errors import BindingError


class OrchestratorError(BindingError):
    """An orchestrator cannot take the pipeline (one line, with what to do instead)."""


__all__ = ["OrchestratorError"]
