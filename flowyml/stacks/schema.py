"""The JSON Schema of ``flowyml.yaml`` and ``stacks/*.yaml`` (``flowyml stack schema``).

One schema serves both file forms: a mapping with ``stacks:`` (``flowyml.yaml``), or one stack
with ``type:`` at the top level (a file under ``stacks/``). Each stack entry is checked against
the schema of its ``type`` through ``if``/``then`` rather than ``oneOf``, so a validator (or an
editor) reports a typo at its own path instead of "matches none of the alternatives".

What the loader accepts beyond the pydantic models is allowed here too: a ``${VAR}`` /
``${VAR:-default}`` reference wherever a number or boolean goes (interpolated before the value
is checked), and numbers for resource quantities (``cpu: 8``).
"""

from __future__ import annotations

from typing import Any

from flowyml.stacks.stack_types import STACK_TYPES

__all__ = ["INTERPOLATED", "config_schema"]

INTERPOLATED: dict[str, Any] = {
    "type": "string",
    "pattern": r"^.*\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}.*$",
    "description": "A ${VAR} or ${VAR:-default} reference, replaced when the file is loaded.",
}
_SCALARS = frozenset({"integer", "number", "boolean"})
_QUANTITIES = frozenset({"cpu", "memory", "disk_size", "volume_size"})


def config_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``flowyml.yaml`` and ``stacks/*.yaml``, for editors."""
    defs: dict[str, Any] = {"Interpolated": INTERPOLATED}
    branches = []
    for type_name, klass in sorted(STACK_TYPES.items()):
        schema = klass.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        schema["properties"] = {"type": {"const": type_name}, **schema.get("properties", {})}
        schema["required"] = ["type", *[r for r in schema.get("required", []) if r != "name"]]
        schema["additionalProperties"] = False
        title = f"{klass.__name__}Entry"
        schema["title"] = title
        defs[title] = schema
        branches.append(
            {
                "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{title}"},
            }
        )
    for definition in defs.values():
        _loosen(definition)
    defs["AnyStack"] = {
        "title": "AnyStack",
        "description": "One stack; `type` says which fields apply.",
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(STACK_TYPES)}},
        "allOf": branches,
    }
    project = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "default_stack": {"type": "string", "description": "Stack used when none is chosen."},
            "environments": {
                "type": "object",
                "description": "ENVIRONMENT value -> stack name.",
                "additionalProperties": {"type": "string"},
            },
            "stacks": {
                "type": "object",
                "description": "Stack name -> stack declaration.",
                "additionalProperties": {"$ref": "#/$defs/AnyStack"},
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flowyml.yaml",
        "description": "flowyml.yaml (a `stacks:` mapping) or stacks/*.yaml (one stack).",
        "type": "object",
        "if": {"required": ["type"]},
        "then": {"$ref": "#/$defs/AnyStack"},
        "else": project,
        "$defs": defs,
    }


def _loosen(schema: Any) -> None:
    """Allow ``${VAR}`` for number/boolean properties and numbers for quantities, in place."""
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        types = {prop.get("type")} | {
            alt.get("type") for alt in prop.get("anyOf", []) if isinstance(alt, dict)
        }
        extra: list[dict[str, Any]] = []
        if types & _SCALARS:
            extra.append({"$ref": "#/$defs/Interpolated"})
        if name in _QUANTITIES:
            extra.append({"type": "number", "exclusiveMinimum": 0})
        if extra:
            keep = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
            alternatives = prop.pop("anyOf", None) or [dict(prop)]
            prop.clear()
            prop.update(keep)
            prop["anyOf"] = [*alternatives, *extra]
        _loosen(prop)
        for item in prop.get("anyOf", []):
            _loosen(item)
        _loosen(prop.get("items"))
