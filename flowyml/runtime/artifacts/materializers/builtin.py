"""Materializers for values of the standard library: JSON, bytes and the pickle fallback.

JSON is used only for values that round-trip *exactly*: ``dict`` (with ``str`` keys), ``list``,
``str``, ``int``, ``float``, ``bool`` and ``None``, nested, with exact types (no subclasses).
Tuples, sets, dicts with non-string keys and subclasses such as ``OrderedDict`` or ``StrEnum``
would come back as something else through JSON, so they go to pickle, which restores them as
saved. (The runner already splits a step's ``tuple[A, B]`` return into separate artifacts.)
"""

from __future__ import annotations

import json
import pickle
from typing import Any

_JSON_SCALARS = (str, int, float, bool, type(None))
# Deeper values would hit json's recursion limit anyway; pickle copes with them.
_MAX_JSON_DEPTH = 200


def _json_exact(value: Any, depth: int = 0) -> bool:
    if depth > _MAX_JSON_DEPTH:
        return False
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is list:
        return all(_json_exact(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(key) is str and _json_exact(item, depth + 1) for key, item in value.items())
    return False


class JsonMaterializer:
    """JSON for plain data that round-trips exactly (see the module docstring)."""

    name = "json"
    extension = ".json"

    def handles(self, value: Any) -> bool:
        return _json_exact(value)

    def dump(self, value: Any) -> bytes:
        # allow_nan keeps float('nan') / inf exact for Python readers.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def load(self, data: bytes, type_name: str) -> Any:
        return json.loads(data.decode("utf-8"))


class BytesMaterializer:
    """Raw payloads for ``bytes`` and ``bytearray``."""

    name = "bytes"
    extension = ".bin"

    def handles(self, value: Any) -> bool:
        return type(value) in (bytes, bytearray)

    def dump(self, value: Any) -> bytes:
        return bytes(value)

    def load(self, data: bytes, type_name: str) -> Any:
        return bytearray(data) if type_name == "builtins.bytearray" else data


class PickleMaterializer:
    """The fallback for any picklable value.

    Loading a pickle runs code chosen by whoever wrote it: only load artifacts from stores
    you trust (a stack's own bucket).
    """

    name = "pickle"
    extension = ".pkl"

    def handles(self, value: Any) -> bool:
        return True

    def dump(self, value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, data: bytes, type_name: str) -> Any:
        return pickle.loads(data)
