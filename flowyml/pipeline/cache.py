"""Cache keys: what must be unchanged for a step's earlier outputs to be reused.

``cache_key = sha256(code hash, literal parameters, input content hashes, output names)``.
The code hash covers the step function's source and, recursively, everything of the same
module it refers to by a global name (found through the code objects' ``co_names``, nested
code included): functions (their source), classes (their source, and what their methods
refer to) and module-level constants of plain data (``SCALE = 2``, ``LABELS = ("a", "b")``:
their value). Other globals (objects, large data) are left out: their ``repr`` is not stable
across processes and would make every key new. Code hashes are memoized per function object,
so source inspection happens once per function per process.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import marshal
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flowyml.pipeline.dag import OutputHandle

_code_hashes: dict[Callable[..., Any], str] = {}


def _source_of(func: types.FunctionType) -> bytes:
    try:
        return inspect.getsource(func).encode()
    except (OSError, TypeError):  # no source file (REPL, exec): the bytecode is the next best
        return marshal.dumps(func.__code__)


def _global_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_names(const)


def _unwrap(obj: Any) -> Any:
    inner = getattr(obj, "func", None)  # a Step referenced by name hashes as its function
    return inner if isinstance(inner, types.FunctionType) else obj


_PLAIN_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_MAX_CONSTANT_ITEMS = 10_000  # a bigger module-level value is data, not configuration


def _constant_repr(value: Any) -> str | None:
    """A stable text for plain data (scalars and containers of them), else ``None``."""
    budget = [_MAX_CONSTANT_ITEMS]

    def plain(v: Any) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if isinstance(v, _PLAIN_SCALARS):
            return True
        if isinstance(v, (list, tuple, set, frozenset)):
            return all(plain(x) for x in v)
        if isinstance(v, dict):
            return all(plain(k) and plain(x) for k, x in v.items())
        return False

    if not plain(value):
        return None
    if isinstance(value, (set, frozenset)):  # iteration order of a set is not stable
        return f"{type(value).__name__}({sorted(repr(v) for v in value)})"
    return repr(value)


def _methods(cls: type) -> Iterator[types.FunctionType]:
    for attr in vars(cls).values():
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        elif isinstance(attr, property):
            yield from (f for f in (attr.fget, attr.fset) if isinstance(f, types.FunctionType))
            continue
        if isinstance(attr, types.FunctionType):
            yield attr


def code_hash(func: Callable[..., Any]) -> str:
    """Hash of ``func``'s source plus the same-module helpers, classes and constants it uses."""
    cached = _code_hashes.get(func)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    root = _unwrap(func)
    if not isinstance(root, types.FunctionType):
        digest.update(repr(root).encode())
    else:
        module = root.__module__
        seen: set[int] = set()
        todo: list[types.FunctionType] = [root]
        while todo:
            fn = todo.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            digest.update(fn.__qualname__.encode() + b"\0" + _source_of(fn) + b"\0")
            for name in sorted(set(_global_names(fn.__code__))):
                if name not in fn.__globals__:
                    continue
                target = _unwrap(fn.__globals__[name])
                if isinstance(target, types.FunctionType):
                    if target.__module__ == module:
                        todo.append(target)
                elif isinstance(target, type):
                    if target.__module__ == module and id(target) not in seen:
                        seen.add(id(target))
                        digest.update(_class_source(target) + b"\0")
                        todo.extend(_methods(target))
                elif not isinstance(target, types.ModuleType):
                    text = _constant_repr(target)
                    if text is not None:
                        digest.update(f"{name}={text}".encode() + b"\0")
    result = digest.hexdigest()
    _code_hashes[func] = result
    return result


def _class_source(cls: type) -> bytes:
    try:
        return inspect.getsource(cls).encode()
    except (OSError, TypeError):  # defined where there is no source: its name is all we have
        return cls.__qualname__.encode()


def _stable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(repr(v) for v in value)
    return {"__repr__": repr(value), "__type__": type(value).__qualname__}


def _replace_handles(value: Any, hashes: Mapping[OutputHandle, str]) -> Any:
    if isinstance(value, OutputHandle):
        return {"__artifact__": hashes[value]}
    if isinstance(value, (list, tuple)):
        return [_replace_handles(v, hashes) for v in value]
    if isinstance(value, dict):
        return {k: _replace_handles(v, hashes) for k, v in value.items()}
    return value


def cache_key(
    func: Callable[..., Any],
    arguments: Mapping[str, Any],
    input_hashes: Mapping[OutputHandle, str],
    output_names: tuple[str, ...],
) -> str:
    """The cache key of one invocation.

    Args:
        func: The step function.
        arguments: Bound arguments, with :class:`OutputHandle` where upstream outputs go.
        input_hashes: Content hash of the artifact behind each handle.
        output_names: The step's output names.

    Returns:
        ``sha256:<hex>``.
    """
    params = {name: _stable(_replace_handles(v, input_hashes)) for name, v in arguments.items()}
    payload = json.dumps(
        {"code": code_hash(func), "params": params, "outputs": list(output_names)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()
