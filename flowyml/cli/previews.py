"""Short views of step outputs for ``runs show``, ``runs compare`` and ``artifacts show``.

A value is shown inline when it is small (a number, a short string, a small dict such as a
metrics dict); a DataFrame by its shape (and its head on request), an array by shape and dtype;
anything else by its type and size. Payloads are loaded only when small enough
(:data:`PREVIEW_MAX_BYTES`) and never through pickle (unpickling runs code; ``artifacts show``
loads those on request).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flowyml.core.records import ArtifactRef

PREVIEW_MAX_BYTES = 2_000_000
"""Largest payload ``runs show`` loads to describe it."""
INLINE_WIDTH = 60
"""Longest inline view of one value."""
_PREVIEWED_MATERIALIZERS = frozenset({"json", "numpy", "pandas"})


def relative_uri(uri: str, root: str | None) -> str:
    """``uri`` relative to the artifact store ``root`` when it lies under it, else ``uri``."""
    if root and uri.startswith(root.rstrip("/") + "/"):
        return uri[len(root.rstrip("/")) + 1 :]
    return uri


def short_type(type_name: str) -> str:
    """``builtins.dict`` -> ``dict``; ``pandas.core.frame.DataFrame`` -> ``DataFrame``."""
    return type_name.rsplit(".", 1)[-1]


def human_size(size: int) -> str:
    """Bytes as ``812 B``, ``3.4 KB``, ``12.0 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def scalar(value: Any) -> str:
    """A number or short value as text (floats with 4 significant digits)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    return repr(value)


def is_metric(value: Any) -> bool:
    """True for a plain number (what ``runs compare`` lines up)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metrics_of(value: Any, prefix: str) -> dict[str, Any]:
    """Metric-like entries of an output: itself if a number, else a flat dict's numbers."""
    if is_metric(value):
        return {prefix: value}
    if isinstance(value, Mapping) and len(value) <= 50:
        return {f"{prefix}.{k}": v for k, v in value.items() if is_metric(v)}
    return {}


def inline(value: Any, limit: int = INLINE_WIDTH) -> str | None:
    """A one-line view of ``value``, or ``None`` when it has none that fits ``limit``."""
    if value is None or isinstance(value, (bool, int, float)):
        return scalar(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else None
    if isinstance(value, Mapping):
        parts = [f"{k}={scalar(v)}" for k, v in value.items()]
        if all(not isinstance(v, (Mapping, list, tuple)) for v in value.values()):
            text = "{" + ", ".join(parts) + "}"
            return text if len(text) <= limit else None
        return None
    kind = type(value)
    module = kind.__module__.split(".", 1)[0]
    if module == "pandas" and kind.__name__ == "DataFrame":
        rows, cols = value.shape
        return f"DataFrame {rows}x{cols}"
    if module == "pandas" and kind.__name__ == "Series":
        return f"Series {len(value)} values, dtype {value.dtype}"
    if module == "numpy" and kind.__name__ == "ndarray":
        return f"ndarray {tuple(value.shape)} {value.dtype}"
    if isinstance(value, (list, tuple)):
        text = repr(value)
        if len(text) <= limit and all(isinstance(v, (int, float, str, bool)) for v in value):
            return text
        return f"{kind.__name__} of {len(value)} items"
    return None


def head_lines(value: Any, rows: int = 3, width: int = 100) -> list[str]:
    """A DataFrame's first ``rows`` rows fitted to ``width`` (empty for anything else)."""
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        text = value.head(rows).to_string(line_width=width, max_colwidth=20)
        return text.splitlines()
    return []


def detail_lines(value: Any, rows: int = 5) -> list[str]:
    """More than one line about ``value``: a DataFrame's head, a long dict's entries."""
    if head_lines(value):
        return head_lines(value, rows)
    if isinstance(value, Mapping) and len(value) <= 20:
        return [f"{k}: {inline(v) or short_type(type(v).__name__)}" for k, v in value.items()]
    return []


def describe(ref: ArtifactRef, load: Callable[[ArtifactRef], Any]) -> tuple[str, Any]:
    """The inline text for an output and the loaded value (``None`` when not loaded).

    Args:
        ref: The recorded output.
        load: Loads a ref (the artifact store's ``load``); errors become the text.
    """
    fallback = f"{short_type(ref.type_name)}, {human_size(ref.size)}"
    if ref.materializer not in _PREVIEWED_MATERIALIZERS or ref.size > PREVIEW_MAX_BYTES:
        return fallback, None
    from flowyml.core.errors import FlowymlError

    try:
        value = load(ref)
    except (FlowymlError, ImportError, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return f"{fallback} (not readable here: {message})", None
    return inline(value) or fallback, value
