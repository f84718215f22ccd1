"""YAML loading that remembers the line of every key and value (for error messages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flowyml.stacks.errors import StackConfigError

__all__ = ["Lines", "load_with_lines"]

Lines = dict[tuple[str | int, ...], int]
"""Data path (keys and list indexes) -> 1-based line number."""


def load_with_lines(text: str, source: Path) -> tuple[Any, Lines]:
    """Parse one YAML document, returning the data and the line of each path.

    Raises:
        StackConfigError: Malformed YAML (with line), several documents, duplicate keys,
            or non-string keys.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise StackConfigError(
            f"{source}{line}: malformed YAML: {problem}",
            hint="fix the YAML syntax (indentation, colons, quotes)",
        ) from None
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{source}: malformed YAML: {exc}".replace("\n", " ")) from None
    finally:
        loader.dispose()
    lines: Lines = {}
    if node is None:
        return None, lines
    return _build(loader, node, (), lines, source), lines


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: tuple[str | int, ...],
    lines: Lines,
    source: Path,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise StackConfigError(f"{source}:{line}: keys must be strings, got {key!r}")
            if key in out:
                raise StackConfigError(
                    f"{source}:{line}: duplicate key {key!r}", hint="remove one of the two"
                )
            lines[(*path, key)] = line
            out[key] = _build(loader, value_node, (*path, key), lines, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, i), lines, source) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
