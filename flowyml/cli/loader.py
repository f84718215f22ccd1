"""Find a pipeline in a user's Python file: ``FILE`` or ``FILE:NAME``.

A module-level ``Pipeline`` (built in a ``with`` block) or ``@pipeline`` function counts. The file
is imported as a fresh module with its own folder on ``sys.path`` so it can import its neighbours.
Importing it must not run a pipeline: ``flowyml run`` runs the one it finds, on the stack and
with the parameters it is given, so a ``pipeline.run()`` at module level is refused (before
anything is recorded) with the fix: put it under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowyml.core.errors import FlowymlError


class PipelineLoadError(FlowymlError):
    """The file or pipeline asked for cannot be loaded."""


def split_target(target: str) -> tuple[Path, str | None]:
    """Split ``FILE[:NAME]`` (a Windows drive letter is not a separator)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or "/" in name or name.endswith(".py"):
        return Path(target), None
    return Path(path), name or None


@contextlib.contextmanager
def _no_runs_while_importing(path: Path) -> Iterator[None]:
    """Make ``Pipeline.run`` / ``@pipeline``'s ``run`` refuse while ``path`` is imported."""
    from flowyml.pipeline import ParameterizedPipeline, Pipeline

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        line = _line_in(path, traceback.extract_stack())
        raise PipelineLoadError(
            f"{path}{line} runs pipeline '{self.name}' when it is imported; `flowyml run` "
            "would run it twice (the first time ignoring --stack and --param)",
            hint='put that call under `if __name__ == "__main__":`, or run the file with '
            "`python` instead.",
        )

    saved = Pipeline.run, ParameterizedPipeline.run
    Pipeline.run = ParameterizedPipeline.run = refuse  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Pipeline.run, ParameterizedPipeline.run = saved  # type: ignore[method-assign]


def _line_in(path: Path, frames: Any) -> str:
    """``:LINE`` of the last frame in ``path`` (empty when none)."""
    resolved = str(path.resolve())
    lines = [f.lineno for f in frames if str(Path(f.filename).resolve()) == resolved]
    return f":{lines[-1]}" if lines else ""


def handle_misuse(exc: Exception, path: Path) -> PipelineLoadError | None:
    """A step output used as a value while the pipeline is declared, said plainly.

    Returns ``None`` when ``exc`` is something else.
    """
    from flowyml.pipeline.errors import StepOutputUsedAsValueError

    line = _line_in(path, traceback.extract_tb(exc.__traceback__))
    if isinstance(exc, StepOutputUsedAsValueError):  # the pipeline layer's own explanation
        return PipelineLoadError(f"{path}{line}: {exc.message}", hint=exc.hint)
    if not isinstance(exc, TypeError) or "OutputHandle" not in str(exc):
        return None
    return PipelineLoadError(
        f"{path}{line}: a step output is used as a value in the pipeline body. While a pipeline "
        "is declared, calling a step returns a handle to its future output, not the value, so "
        "arithmetic, indexing or formatting on it cannot work",
        hint="compute inside a step: pass the output to a @step function that does the "
        "arithmetic and returns the result.",
    )


def load_pipeline(target: str) -> Any:
    """Import the file named by ``target`` and return the pipeline it names or holds.

    Raises:
        PipelineLoadError: no such file, it fails to import, it holds no pipeline, the named
            pipeline is not there, or it holds several and none was named.
    """
    from flowyml.pipeline import ParameterizedPipeline, Pipeline

    path, wanted = split_target(target)
    if not path.is_file():
        raise PipelineLoadError(f"no such file: {path}", hint="give the path of a Python file.")
    module_name = f"_flowyml_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PipelineLoadError(f"{path} is not a Python file flowyml can import.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        with _no_runs_while_importing(path):
            spec.loader.exec_module(module)
    except FlowymlError as exc:
        misuse = handle_misuse(exc, path)
        if misuse is not None:
            raise misuse from exc
        raise
    except Exception as exc:
        misuse = handle_misuse(exc, path)
        if misuse is not None:
            raise misuse from exc
        raise PipelineLoadError(
            f"importing {path} failed: {type(exc).__name__}: {exc}",
            hint="run it with `python` to see the traceback, or add --debug.",
        ) from exc
    found: dict[str, Any] = {}
    for attr, value in vars(module).items():
        if isinstance(value, (Pipeline, ParameterizedPipeline)) and not attr.startswith("_"):
            found.setdefault(value.name, value)
            found.setdefault(attr, value)
    unique = {id(v): v for v in found.values()}
    if wanted is not None:
        if wanted in found:
            return found[wanted]
        names = ", ".join(sorted({v.name for v in unique.values()})) or "none"
        raise PipelineLoadError(
            f"{path} has no pipeline named {wanted!r} (pipelines there: {names}).",
            hint=f"run `flowyml run {path}:<name>` with one of those.",
        )
    if not unique:
        raise PipelineLoadError(
            f"{path} defines no pipeline.",
            hint="define a module-level Pipeline (with-block) or an @pipeline function.",
        )
    if len(unique) > 1:
        names = ", ".join(sorted(v.name for v in unique.values()))
        raise PipelineLoadError(
            f"{path} defines several pipelines ({names}).",
            hint=f"name one: `flowyml run {path}:<name>`.",
        )
    return next(iter(unique.values()))
