"""What the dashboard shows of a payload: small values inline, a DataFrame's shape and head, an
array's shape and dtype; the text of a step's captured log; the raw bytes for a download.

Payloads are read through the stack's artifact store, so sizes and hashes are checked as on any
load. Pickled payloads are never loaded here: unpickling runs code chosen by whoever wrote the
file, and a dashboard is no place for that; they are shown by type and size and can be
downloaded.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import fsspec

from flowyml.core.errors import FlowymlError
from flowyml.core.records import ArtifactRef

INLINE_CHARS = 2_000
"""A value whose JSON text is at most this long is shown whole."""
PREVIEW_MAX_BYTES = 64 * 2**20
"""Payloads larger than this are described, not loaded."""
HEAD_ROWS = 5
LOG_TAIL_BYTES = 256 * 1024
_LOADABLE = frozenset({"json", "numpy", "pandas"})


def digest(uri: str) -> str:
    """The key the metadata store files an artifact under: sha256 of its URI."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()


def ref_dict(ref: ArtifactRef) -> dict[str, Any]:
    """An artifact ref with the id the API serves it under."""
    return {
        "id": digest(ref.uri),
        "uri": ref.uri,
        "type": ref.type_name,
        "materializer": ref.materializer,
        "size": ref.size,
        "hash": ref.content_hash,
    }


def _inline(value: Any) -> dict[str, Any]:
    text = json.dumps(value, default=str)
    if len(text) <= INLINE_CHARS:
        return {"kind": "value", "value": value}
    return {"kind": "text", "text": text[:INLINE_CHARS], "truncated": True}


def _frame(frame: Any) -> dict[str, Any]:
    head = frame.head(HEAD_ROWS)
    return {
        "kind": "dataframe",
        "shape": list(frame.shape),
        "columns": [str(c) for c in frame.columns],
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "head": json.loads(head.to_json(orient="values", date_format="iso", default_handler=str)),
    }


def _array(array: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "array", "shape": list(array.shape), "dtype": str(array.dtype)}
    if array.size <= 20:
        out["values"] = json.loads(json.dumps(array.tolist(), default=str))
    return out


def preview(store: Any, ref: ArtifactRef) -> dict[str, Any]:
    """A JSON-ready description of the payload ``ref`` points to (see the module docstring)."""
    if ref.materializer not in _LOADABLE:
        why = (
            "pickled values are not loaded by the dashboard (unpickling runs code)"
            if ref.materializer == "pickle"
            else f"{ref.materializer} payload"
        )
        return {"kind": "opaque", "note": why}
    if ref.size > PREVIEW_MAX_BYTES:
        return {"kind": "opaque", "note": f"too large to preview ({ref.size} bytes)"}
    try:
        value = store.load(ref)
    except FlowymlError as exc:
        return {"kind": "error", "error": exc.message}
    except ImportError as exc:
        return {"kind": "error", "error": f"cannot load it here: {exc}"}
    if ref.materializer == "pandas":
        return _frame(value)
    if ref.materializer == "numpy":
        return _array(value)
    return _inline(value)


def _open(store: Any, uri: str) -> tuple[Any, str]:
    # fsspec filesystems take full URLs of their own protocol: the store's filesystem keeps its
    # endpoint and credentials; a URI of another scheme (an older root) gets a default one.
    if uri.split("://", 1)[0] == str(store.root_uri).split("://", 1)[0]:
        return store.filesystem, uri
    fs, path = fsspec.core.url_to_fs(uri)
    return fs, path


def read_bytes(store: Any, uri: str) -> bytes:
    """The whole payload at ``uri``."""
    fs, path = _open(store, uri)
    data: bytes = fs.cat_file(path)
    return data


def log_tail(store: Any, uri: str, limit: int = LOG_TAIL_BYTES) -> dict[str, Any]:
    """The last ``limit`` bytes of a captured log, as text."""
    fs, path = _open(store, uri)
    try:
        size = int(fs.size(path))
        start = max(0, size - limit)
        data = fs.cat_file(path, start=start) if start else fs.cat_file(path)
    except FileNotFoundError:
        return {
            "uri": uri,
            "text": None,
            "error": "the captured log is no longer in the artifact store",
        }
    return {
        "uri": uri,
        "text": data.decode("utf-8", errors="replace"),
        "size": size,
        "truncated": start > 0,
    }


__all__ = [
    "INLINE_CHARS",
    "PREVIEW_MAX_BYTES",
    "digest",
    "log_tail",
    "preview",
    "read_bytes",
    "ref_dict",
]
