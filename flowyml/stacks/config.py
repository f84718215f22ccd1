"""``flowyml.yaml`` and ``stacks/*.yaml``: stacks declared in files.

Format (JSON Schema: :func:`flowyml.stacks.schema.config_schema`, ``flowyml stack schema``)::

    default_stack: local            # optional
    environments:                   # optional; ENVIRONMENT value -> stack name
      production: production        # (this mapping and staging -> staging are the defaults)
    stacks:
      local:
        type: local                 # local | gcp | aws | kubernetes | custom
        artifact_path: .flowyml/artifacts
      production:
        type: gcp
        project_id: ${GCP_PROJECT_ID}
        bucket_name: ${GCP_BUCKET:-my-artifacts}

A file under ``stacks/`` (or any file given to ``flowyml stack register``) holds either that same
``stacks:`` mapping or one stack with ``name:`` and ``type:`` at the top level.

Invariants:
- Every error names the file, the line and the field, in one line; unknown keys get a
  did-you-mean.
- ``${VAR}`` / ``${VAR:-default}`` are interpolated in every string, except that a secret field
  (``password``, ``url``, ``connection_string``) given as exactly ``${VAR}`` stays a reference,
  resolved when used (so the secret is never held by the declaration).
- A stack-level error (unknown type, missing field, bad quantity, unset variable) is kept in
  :attr:`ProjectConfig.errors` and raised when that stack is asked for, so one broken stack
  does not stop work on the others. A file-level error (malformed YAML, unknown top-level key)
  raises when strict or when it is in ``flowyml.yaml``; leniently (the registry) an error in a
  ``stacks/*.yaml`` file is kept in :attr:`ProjectConfig.file_errors` and raised only for the
  stack that file is named after (``stacks/NAME.yaml``: NAME).
- A secret field holding a literal credential, or a ``${VAR}`` whose variable is set but empty,
  loads with a warning kept in :attr:`ProjectConfig.warnings` (per stack).
"""

from __future__ import annotations

import functools
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from flowyml.core.paths import CONFIG_FILENAME, project_dir
from flowyml.stacks._dump import error_lines
from flowyml.stacks._yaml import Lines, load_with_lines
from flowyml.stacks.base import Stack
from flowyml.stacks.errors import StackConfigError, UnknownStackError
from flowyml.stacks.interpolation import interpolate
from flowyml.stacks.rules import did_you_mean
from flowyml.stacks.schema import config_schema
from flowyml.stacks.secret_refs import env_reference, is_reference
from flowyml.stacks.stack_types import STACK_TYPES, stack_class

__all__ = [
    "DEFAULT_ENVIRONMENTS",
    "STACKS_DIRNAME",
    "ProjectConfig",
    "config_files",
    "config_schema",
    "load_config",
    "load_stack_file",
    "select_stack_name",
]

STACKS_DIRNAME = "stacks"
TOP_LEVEL_KEYS = ("default_stack", "environments", "stacks")
DEFAULT_ENVIRONMENTS: dict[str, str] = {"production": "production", "staging": "staging"}
_SECRET_KEYS = frozenset({"password", "url", "connection_string"})


@dataclass
class ProjectConfig:
    """What the config files declare.

    Stack entries are built (validated into models) on first use: looking one stack up does not
    pay for building every other one. ``stacks`` and ``errors`` build them all.

    Attributes:
        default_stack: The ``default_stack`` key, if any.
        environments: ``ENVIRONMENT`` value -> stack name.
        sources: Stack name -> ``file:line`` where it is declared.
        declared_types: Stack name -> the ``type:`` written (known even when the entry is broken).
        files: The files read.
        file_errors: File -> why it does not load (lenient loading only).
        warnings: Stack name -> warnings about its declaration (literal or empty secrets).
    """

    default_stack: str | None = None
    environments: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENVIRONMENTS))
    sources: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    declared_types: dict[str, str] = field(default_factory=dict)
    file_errors: dict[Path, StackConfigError] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    _built: dict[str, Stack] = field(default_factory=dict, repr=False)
    _failed: dict[str, StackConfigError] = field(default_factory=dict, repr=False)
    _pending: dict[str, Callable[[], Stack]] = field(default_factory=dict, repr=False)

    def _build(self, name: str) -> None:
        builder = self._pending.pop(name, None)
        if builder is None:
            return
        try:
            self._built[name] = builder()
        except StackConfigError as exc:
            self._failed[name] = exc

    def _build_all(self) -> None:
        for name in list(self._pending):
            self._build(name)

    @property
    def stacks(self) -> dict[str, Stack]:
        """Stack name -> stack, for every entry that loads (in declaration order)."""
        self._build_all()
        return {n: self._built[n] for n in self.sources if n in self._built}

    @property
    def errors(self) -> dict[str, StackConfigError]:
        """Stack name -> the error of every entry that does not load."""
        self._build_all()
        return {n: self._failed[n] for n in [*self.sources, *self._failed] if n in self._failed}

    @property
    def names(self) -> list[str]:
        """Every declared stack name, loaded or not, sorted."""
        return sorted({*self.sources, *self._failed})

    def get(self, name: str) -> Stack:
        """The stack ``name`` (built now if it was not yet).

        Raises:
            StackConfigError: The entry is declared but broken.
            UnknownStackError: No such entry.
        """
        self._build(name)
        if name in self._failed:
            raise self._failed[name]
        if name in self._built:
            return self._built[name]
        raise UnknownStackError(f"no stack named {name!r} in the config files")

    def raise_errors(self) -> None:
        """Raise the first stack-level error, if any (in file order)."""
        for error in self.errors.values():
            raise error


def config_files(root: Path | None = None) -> list[Path]:
    """``<project>/flowyml.yaml`` (if present) then ``<project>/stacks/*.yaml`` sorted."""
    base = root if root is not None else project_dir()
    files = [base / CONFIG_FILENAME] if (base / CONFIG_FILENAME).is_file() else []
    stacks_dir = base / STACKS_DIRNAME
    if stacks_dir.is_dir():
        files += sorted([*stacks_dir.glob("*.yaml"), *stacks_dir.glob("*.yml")])
    return files


def load_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    strict: bool = True,
    root: Path | None = None,
) -> ProjectConfig:
    """Load ``flowyml.yaml`` and ``stacks/*.yaml``.

    Args:
        path: One file to read; ``None`` reads the project's files (:func:`config_files`).
        environ: Variables for ``${VAR}`` (default ``os.environ``).
        strict: Raise the first stack-level error too (else keep it in ``errors``).
        root: Project directory whose files to read (default: the current project).

    Raises:
        StackConfigError: A file-level error, or (``strict``) a stack-level one.
    """
    env = os.environ if environ is None else environ
    files = [Path(path)] if path is not None else config_files(root)
    config = ProjectConfig(files=files)
    for file in files:
        try:
            _load_file(file, env, config)
        except StackConfigError as exc:
            if strict or file.parent.name != STACKS_DIRNAME:
                raise  # flowyml.yaml chooses the stack: nothing is sure when it is broken
            config.file_errors[file] = exc
            if file.stem not in config.sources:
                config.sources[file.stem] = str(file)
                config._failed[file.stem] = exc
    if strict:
        config.raise_errors()
    return config


def load_stack_file(path: Path | str, environ: Mapping[str, str] | None = None) -> list[Stack]:
    """Every stack declared in one file (for ``flowyml stack register FILE``).

    Raises:
        StackConfigError: Any error in the file.
    """
    file = Path(path)
    if not file.is_file():
        raise StackConfigError(f"{file}: no such file", hint="give the path of a YAML file")
    config = load_config(file, environ=environ, strict=True)
    if not config.stacks:
        raise StackConfigError(f"{file}: declares no stack", hint="add a `stacks:` mapping")
    return list(config.stacks.values())


def _load_file(file: Path, env: Mapping[str, str], config: ProjectConfig) -> None:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackConfigError(f"{file}: cannot read: {exc.strerror}") from None
    data, lines = load_with_lines(text, file)
    if data is None:
        return
    if not isinstance(data, dict):
        raise StackConfigError(f"{file}:1: the top level must be a mapping with a `stacks:` key")
    if "stacks" not in data and "type" in data and file.name != CONFIG_FILENAME:
        entry = dict(data)
        name = entry.pop("name", None) or file.stem
        _add_stack(file, str(name), entry, (), lines, env, config)
        return
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise _unknown_key(file, lines.get((key,), 1), (key,), TOP_LEVEL_KEYS)
    if data.get("default_stack") is not None:
        config.default_stack = _text(file, lines, ("default_stack",), data["default_stack"], env)
    environments = data.get("environments") or {}
    if not isinstance(environments, dict):
        raise StackConfigError(
            f"{file}:{lines.get(('environments',), 1)}: environments must be a mapping"
        )
    for env_name, stack_name in environments.items():
        config.environments[env_name] = _text(
            file, lines, ("environments", env_name), stack_name, env
        )
    stacks = data.get("stacks") or {}
    if not isinstance(stacks, dict):
        raise StackConfigError(
            f"{file}:{lines.get(('stacks',), 1)}: stacks must be a mapping of name -> stack"
        )
    for name, entry in stacks.items():
        _add_stack(file, name, entry, ("stacks", name), lines, env, config)


def _text(file: Path, lines: Lines, path: tuple[str | int, ...], value: Any, env: Any) -> str:
    where = f"{file}:{lines.get(path, 1)}: {_dotted(path)}"
    return interpolate(str(value), env, where)


def _add_stack(
    file: Path,
    name: str,
    entry: Any,
    path: tuple[str | int, ...],
    lines: Lines,
    env: Mapping[str, str],
    config: ProjectConfig,
) -> None:
    line = lines.get(path, 1)
    where = f"{file}:{line}"
    if name in config.sources:
        error = StackConfigError(
            f"{where}: stack {name!r} is declared twice (first at {config.sources[name]})",
            hint="rename or remove one of them",
        )
        config._failed[name] = error
        return
    config.sources[name] = where
    if isinstance(entry, dict) and isinstance(entry.get("type"), str):
        config.declared_types[name] = entry["type"]
    config._pending[name] = functools.partial(_build_stack, file, name, entry, path, lines, env)
    found = _secret_warnings(entry, file, path or (name,), lines, env)
    if found:
        config.warnings[name] = found


def _secret_warnings(
    entry: Any, file: Path, path: tuple[str | int, ...], lines: Lines, env: Mapping[str, str]
) -> list[str]:
    """Warnings for secret fields under ``entry``: literal credentials, empty ``${VAR}``."""
    out: list[str] = []
    if isinstance(entry, dict):
        for key, value in entry.items():
            sub = (*path, key)
            if key in _SECRET_KEYS and isinstance(value, str):
                where = f"{file}:{lines.get(sub, lines.get(path, 1))}: {_dotted(sub)}"
                ref = env_reference(value)
                if ref is not None:
                    if env.get(ref[0]) == "":
                        out.append(
                            f"{where}: ${{{ref[0]}}} is set but empty. To fix: export "
                            f"{ref[0]}=<the {key}> (or unset it to get the default)"
                        )
                elif _holds_credential(str(key), value):
                    out.append(
                        f"{where}: a literal {key} in the file: anyone who reads it sees it. "
                        f"To fix: write ${{VAR}} and export VAR"
                    )
            else:
                out += _secret_warnings(value, file, sub, lines, env)
    elif isinstance(entry, list):
        for i, item in enumerate(entry):
            out += _secret_warnings(item, file, (*path, i), lines, env)
    return out


def _holds_credential(key: str, value: str) -> bool:
    if not value or "${" in value:
        return False
    if key == "password":
        return True
    if key == "url":
        from urllib.parse import urlsplit

        try:
            return bool(urlsplit(value).password)
        except ValueError:
            return False
    lowered = value.lower()
    return "key=" in lowered or "signature=" in lowered


def _build_stack(
    file: Path,
    name: str,
    entry: Any,
    path: tuple[str | int, ...],
    lines: Lines,
    env: Mapping[str, str],
) -> Stack:
    line = lines.get(path, 1)
    if not isinstance(entry, dict):
        raise StackConfigError(f"{file}:{line}: stack {name!r} must be a mapping of fields")
    if "type" not in entry:
        raise StackConfigError(
            f"{file}:{line}: {_dotted(path or (name,))}: missing `type`",
            hint=f"add `type:` with one of {', '.join(sorted(STACK_TYPES))}",
        )
    type_line = lines.get((*path, "type"), line)
    try:
        klass = stack_class(str(entry["type"]))
    except StackConfigError as exc:
        raise StackConfigError(
            f"{file}:{type_line}: {_dotted((*(path or (name,)), 'type'))}: {exc.message}",
            hint=exc.hint,
        ) from None
    fields = {k: v for k, v in entry.items() if k != "type"}
    if "name" in fields and fields["name"] != name:
        raise StackConfigError(
            f"{file}:{lines.get((*path, 'name'), line)}: name {fields['name']!r} differs from "
            f"the key {name!r}",
            hint="remove `name:`; the key is the stack name",
        )
    fields["name"] = name
    for key in fields:
        if key not in klass.model_fields:
            raise _unknown_key(
                file,
                lines.get((*path, key), line),
                (*(path or (name,)), key),
                [*klass.model_fields, "type"],
            )
    fields = _interpolate_tree(fields, file, path, lines, env)
    try:
        return klass.model_validate(fields)
    except ValidationError as exc:
        raise _validation_error(exc, klass, file, path, lines) from None


def _interpolate_tree(
    value: Any, file: Path, path: tuple[str | int, ...], lines: Lines, env: Mapping[str, str]
) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate_tree(v, file, (*path, k), lines, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate_tree(v, file, (*path, i), lines, env) for i, v in enumerate(value)]
    if isinstance(value, str):
        if path and path[-1] in _SECRET_KEYS and is_reference(value):
            return value  # a secret reference (or URL template) stays one (resolved when used)
        return interpolate(value, env, f"{file}:{lines.get(path, 1)}: {_dotted(path)}")
    return value


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _unknown_key(
    file: Path, line: int, path: tuple[str | int, ...], allowed: Any
) -> StackConfigError:
    suggestion = did_you_mean(str(path[-1]), allowed)
    tail = f"; {suggestion}" if suggestion else ""
    return StackConfigError(
        f"{file}:{line}: {_dotted(path)}: unknown key{tail}",
        hint=f"allowed keys here: {', '.join(sorted(allowed))}",
    )


def _validation_error(
    exc: ValidationError,
    klass: type[Stack],
    file: Path,
    path: tuple[str | int, ...],
    lines: Lines,
) -> StackConfigError:
    err = exc.errors(include_url=False)[0]
    loc = _data_path(tuple(err.get("loc", ())), path, lines)
    line = _line_of(path + loc, lines)
    _, message = error_lines(exc)[0]
    hint = None
    kind = err.get("type")
    if kind == "extra_forbidden" and loc:
        message = "unknown key"
        allowed = _fields_at(klass, loc[:-1])
        if allowed and (suggestion := did_you_mean(str(loc[-1]), allowed)):
            message += f"; {suggestion}"
        if allowed:
            hint = f"allowed keys here: {', '.join(allowed)}"
    elif kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        message = f"unknown {ctx.get('discriminator', 'kind')} {ctx.get('tag')!r}".replace(
            "'kind'", "kind"
        )
        if suggestion := did_you_mean(str(ctx.get("tag")), tags):
            message += f"; {suggestion}"
        hint = f"use one of: {', '.join(tags)}"
    elif kind == "union_tag_not_found":
        message = "missing `kind`"
        kinds = _kinds_at(klass, loc)
        hint = f"add `kind:` with one of: {', '.join(kinds)}" if kinds else "add `kind:`"
    elif kind == "missing" and loc:
        hint = f"add `{loc[-1]}:` to {_dotted(path + loc[:-1])}"
    count = len(exc.errors())
    more = f" (and {count - 1} more)" if count > 1 else ""
    return StackConfigError(f"{file}:{line}: {_dotted(path + loc)}: {message}{more}", hint=hint)


def _data_path(
    loc: tuple[int | str, ...], base: tuple[str | int, ...], lines: Lines
) -> tuple[str | int, ...]:
    """Drop the union tags pydantic adds to error locations (``executor.local.x``)."""
    out: tuple[str | int, ...] = ()
    for i, part in enumerate(loc):
        if (*base, *out, part) in lines or i == len(loc) - 1:
            out = (*out, part)
    return out


def _line_of(path: tuple[str | int, ...], lines: Lines) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _fields_at(klass: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found at ``loc`` inside ``klass`` (best effort)."""
    return sorted({name for model in _models_at(klass, loc) for name in model.model_fields})


def _kinds_at(klass: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The ``kind`` values of the component union at ``loc`` inside ``klass`` (best effort)."""
    kinds = []
    for model in _models_at(klass, loc):
        info = model.model_fields.get("kind")
        if info is not None and isinstance(info.default, str):
            kinds.append(info.default)
    return kinds


def _models_at(klass: type[BaseModel], loc: tuple[str | int, ...]) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [klass]
    for part in loc:
        if isinstance(part, int):
            continue
        found: list[type[BaseModel]] = []
        for model in models:
            info = model.model_fields.get(part)
            if info is not None:
                found += _models_in(info.annotation)
        models = found
        if not models:
            return []
    return models


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def select_stack_name(
    config: ProjectConfig, environ: Mapping[str, str] | None = None
) -> str | None:
    """The stack the environment chooses, or ``None`` (see :func:`resolve_stack`).

    ``FLOWYML_STACK`` names a stack directly. Else ``ENVIRONMENT`` is looked up in the
    ``environments`` mapping (``production`` -> ``production``, ``staging`` -> ``staging`` by
    default, as in the guide); other values, or none, fall back to ``default_stack``.
    """
    env = os.environ if environ is None else environ
    if env.get("FLOWYML_STACK"):
        return env["FLOWYML_STACK"]
    environment = env.get("ENVIRONMENT")
    if environment and environment in config.environments:
        return config.environments[environment]
    return config.default_stack
