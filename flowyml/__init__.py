"""flowyml: declare an ML stack, preview and provision it, and run pipelines on it.

The authoring API (``Pipeline``, ``step``, ``pipeline``) is imported lazily so that importing
``flowyml`` (and running ``flowyml --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowyml.core import launcher as _launcher

__version__ = "0.1.0"

__all__ = ["Pipeline", "__version__", "pipeline", "step"]


def _launch(pipeline: Any, stack: Any, params: Any) -> Any:
    from flowyml.launch import run

    return run(pipeline, stack, params)


# Pipeline.run reaches the run facade through this (the authoring layer cannot import it).
_launcher.register(_launch)

if TYPE_CHECKING:
    from flowyml.pipeline import Pipeline, pipeline, step


def __getattr__(name: str) -> Any:
    if name in {"Pipeline", "pipeline", "step"}:
        # import_module, not `from flowyml import pipeline`: that would re-enter this hook.
        import importlib

        package = importlib.import_module("flowyml.pipeline")
        # The subpackage `flowyml.pipeline` is itself callable as the @pipeline decorator
        # (the import system binds the package to this name), so both spellings work.
        return package if name == "pipeline" else getattr(package, name)
    raise AttributeError(f"module 'flowyml' has no attribute {name!r}")
