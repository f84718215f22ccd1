"""flowyml: declare an ML stack, preview and provision it, and run pipelines on it.

The authoring API (``Pipeline``, ``step``, ``pipeline``) is imported lazily so that importing
``flowyml`` (and running ``flowyml --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Pipeline", "__version__", "pipeline", "step"]

if TYPE_CHECKING:
    from flowyml.pipeline import Pipeline, pipeline, step


def __getattr__(name: str) -> Any:
    if name in {"Pipeline", "pipeline", "step"}:
        from flowyml import pipeline as _pipeline_pkg

        return getattr(_pipeline_pkg, name)
    raise AttributeError(f"module 'flowyml' has no attribute {name!r}")
