"""Which stacks exist and which one is active, persisted in ``<project>/.flowyml/registry.json``.

A stack is *known* when a config file declares it (``flowyml.yaml``, ``stacks/*.yaml``), when
it was registered (``register_stack``), or when it is the built-in ``local`` (``LocalStack()``).
Config files are the source of truth for what they declare: registering a different stack under
a config-declared name, or removing one, is refused.

Which stack a run uses (:func:`resolve_stack`), first match wins:

1. the stack given to ``pipeline.run(stack=...)``;
2. the stack given to ``Pipeline(..., stack=...)``;
3. ``$FLOWYML_STACK``;
4. the active stack (``set_active_stack`` / ``flowyml stack set``);
5. ``$ENVIRONMENT`` through the config's ``environments`` (``production`` -> ``production``,
   ``staging`` -> ``staging``), then the config's ``default_stack``;
6. ``LocalStack()``.

A stack object handed to a run (declared in Python, not by name) is remembered in
``<project>/.flowyml/run_stacks.json`` (secret-free declarations only), so that the CLI can find
the runs recorded in its metadata store (:meth:`StackRegistry.run_stacks`).

Read-only operations never create ``.flowyml/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowyml.core.paths import STATE_DIRNAME, project_dir
from flowyml.stacks._filestore import JsonFile
from flowyml.stacks.base import Stack
from flowyml.stacks.config import ProjectConfig, load_config, select_stack_name
from flowyml.stacks.errors import (
    StackError,
    StackRegistryError,
    UnknownStackError,
)
from flowyml.stacks.local import LocalStack
from flowyml.stacks.suggest import unknown_stack_error

__all__ = [
    "BUILTIN_LOCAL",
    "REGISTRY_FILENAME",
    "StackEntry",
    "StackRegistry",
    "get_active_stack",
    "resolve_stack",
    "set_active_stack",
]

REGISTRY_FILENAME = "registry.json"
RUN_STACKS_FILENAME = "run_stacks.json"
REGISTRY_VERSION = 1
BUILTIN_LOCAL = "local"


@dataclass(frozen=True)
class StackEntry:
    """One known stack, for listings.

    Attributes:
        name: Stack name.
        source: ``"flowyml.yaml:3"``-style location, ``"registry"`` or ``"built-in"``.
        stack: The declaration, or ``None`` when it does not load.
        error: Why it does not load, or ``None``.
        declared_type: The ``type:`` its file declares (known even when it does not load).
    """

    name: str
    source: str
    stack: Stack | None
    error: StackError | None = None
    declared_type: str | None = None

    @property
    def stack_type(self) -> str | None:
        """The stack's type: loaded, else as declared, else ``None``."""
        return self.stack.stack_type if self.stack is not None else self.declared_type


def _empty() -> dict[str, Any]:
    return {"version": REGISTRY_VERSION, "active": None, "stacks": {}}


def _literal_secret_path(data: Any, path: str = "") -> str | None:
    if isinstance(data, dict):
        if str(data.get("secret_ref", "")).startswith("memory:"):
            return path or "(top level)"
        for key, value in data.items():
            found = _literal_secret_path(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    return None


class StackRegistry:
    """The project's known stacks and its active stack.

    Args:
        root: Project directory (default: ``flowyml.core.paths.project_dir()`` at each call).
    """

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        """The project directory."""
        return self._root if self._root is not None else project_dir()

    @property
    def path(self) -> Path:
        """``<project>/.flowyml/registry.json``."""
        return self.root / STATE_DIRNAME / REGISTRY_FILENAME

    def _file(self) -> JsonFile:
        return JsonFile(self.path, _empty)

    def _run_stacks_file(self) -> JsonFile:
        return JsonFile(
            self.root / STATE_DIRNAME / RUN_STACKS_FILENAME,
            lambda: {"version": REGISTRY_VERSION, "stacks": {}},
        )

    def config(self) -> ProjectConfig:
        """The project's config files, loaded leniently (broken entries kept in ``errors``).

        A config file that does not load at all is a warning (``UserWarning``), not an error:
        a stack declared elsewhere still works; a stack it may declare raises its error.
        """
        config = load_config(root=self.root, strict=False)
        self._warn_file_errors(config)
        return config

    @staticmethod
    def _warn_file_errors(config: ProjectConfig, asked: str | None = None) -> None:
        for file, error in config.file_errors.items():
            if asked is not None and config._failed.get(asked) is error:
                continue  # raised for the stack asked for: said once, as the error
            warnings.warn(
                f"{error.message} (the stacks declared in {file.name} are unavailable until it "
                f"is fixed)" + (f". To fix: {error.hint}" if error.hint else ""),
                UserWarning,
                stacklevel=3,
            )

    # -- reading -------------------------------------------------------------------------

    def entries(self) -> list[StackEntry]:
        """Every known stack: config-declared (file order), registered, then built-in local."""
        config = self.config()
        out: list[StackEntry] = []
        for name in [*config.sources]:
            out.append(
                StackEntry(
                    name,
                    config.sources[name],
                    config.stacks.get(name),
                    config.errors.get(name),
                    config.declared_types.get(name),
                )
            )
        seen = {entry.name for entry in out}
        for name, data in self._file().read().get("stacks", {}).items():
            if name in seen:
                continue
            seen.add(name)
            try:
                out.append(StackEntry(name, "registry", Stack.from_dict(data)))
            except StackError as exc:
                out.append(StackEntry(name, "registry", None, exc))
        if BUILTIN_LOCAL not in seen:
            out.insert(0, StackEntry(BUILTIN_LOCAL, "built-in", LocalStack()))
        return out

    def list_stacks(self) -> list[str]:
        """Names of every known stack (built-in ``local`` first when not declared)."""
        return [entry.name for entry in self.entries()]

    def get_stack(self, name: str) -> Stack:
        """The stack called ``name``.

        Raises:
            UnknownStackError: No such stack (with a did-you-mean).
            StackConfigError: It is declared but its declaration is broken.
        """
        config = load_config(root=self.root, strict=False)
        self._warn_file_errors(config, name)
        if name in config.sources:
            for warning in config.warnings.get(name, ()):
                warnings.warn(warning, UserWarning, stacklevel=2)
            return config.get(name)
        data = self._file().read().get("stacks", {}).get(name)
        if data is not None:
            return Stack.from_dict(data)
        if name == BUILTIN_LOCAL:
            return LocalStack()
        raise self._unknown(name)

    def run_stacks(self) -> list[Stack]:
        """Stacks given to runs as objects (declared in Python), newest first.

        They are not registered (``get_stack`` does not know them): the CLI reads the runs
        recorded in their metadata stores. An entry that no longer loads is left out.
        """
        found = self._run_stacks_file().read().get("stacks", {})
        out = []
        for data in sorted(found.values(), key=lambda d: str(d.get("seen", "")), reverse=True):
            try:
                out.append(Stack.from_dict(data.get("declaration", {})))
            except StackError:
                continue
        return out

    def remember_run_stack(self, stack: Stack) -> None:
        """Remember a stack object a run is given, so its runs can be found from the CLI.

        A declaration holding a literal secret is not written to disk (nothing is remembered).
        Writing happens once per distinct declaration; a failed write is a warning, never a
        failed run.
        """
        data = stack.to_dict()
        if _literal_secret_path(data) is not None:
            return
        text = json.dumps(data, sort_keys=True, default=str)
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        file = self._run_stacks_file()
        try:
            if key in file.read().get("stacks", {}):
                return

            def change(doc: dict[str, Any]) -> None:
                from datetime import datetime, timezone

                seen = datetime.now(timezone.utc).isoformat()
                doc.setdefault("stacks", {})[key] = {"declaration": data, "seen": seen}

            file.update(change)
        except (OSError, StackError) as exc:
            warnings.warn(
                f"flowyml could not remember stack {stack.name!r} in {file.path} ({exc}): "
                "`flowyml runs` may not find this run",
                UserWarning,
                stacklevel=3,
            )

    def _unknown(self, name: str) -> UnknownStackError:
        return unknown_stack_error(name, [(e.name, e.stack_type) for e in self.entries()])

    def active_name(self) -> str | None:
        """The active stack's name, or ``None``."""
        active = self._file().read().get("active")
        return str(active) if active else None

    def get_active_stack(self) -> Stack | None:
        """The active stack, or ``None`` when none was set.

        Raises:
            UnknownStackError: The active stack no longer exists.
        """
        name = self.active_name()
        if name is None:
            return None
        try:
            return self.get_stack(name)
        except UnknownStackError as exc:
            raise UnknownStackError(
                f"the active stack {name!r} no longer exists",
                hint="run `flowyml stack set NAME` with a stack from `flowyml stack list`",
            ) from exc

    # -- writing -------------------------------------------------------------------------

    def register_stack(self, stack: Stack) -> None:
        """Record ``stack`` (replacing a registered stack of the same name).

        Raises:
            StackRegistryError: A config file declares a different stack of that name, or the
                stack holds a literal secret (registrations are stored on disk: use ``${VAR}``).
        """
        self.register_stacks([stack])

    def register_stacks(self, stacks: Sequence[Stack]) -> list[str]:
        """Record every stack of ``stacks``, or none of them: all are checked before one write.

        Returns:
            The names recorded; a stack a config file already declares as is is not recorded
            (the file stays its source).

        Raises:
            StackRegistryError: As :meth:`register_stack`, for any of them (nothing is written).
        """
        config = self.config()
        records: dict[str, dict[str, Any]] = {}
        for stack in stacks:
            data = self._record(stack, config)
            if data is not None:
                records[stack.name] = data
        if not records:
            return []

        def change(doc: dict[str, Any]) -> None:
            doc.setdefault("stacks", {}).update(records)

        self._file().update(change)
        return list(records)

    @staticmethod
    def _record(stack: Stack, config: ProjectConfig) -> dict[str, Any] | None:
        """What to store for ``stack`` (``None``: the config already declares it as is)."""
        if not isinstance(stack, Stack):
            raise StackRegistryError(f"register_stack expects a Stack, got {type(stack).__name__}")
        if stack.name in config.sources:
            if config.stacks.get(stack.name) == stack:
                return None
            raise StackRegistryError(
                f"stack {stack.name!r} is declared in {config.sources[stack.name]}",
                hint="edit it there, or register this stack under another name",
            )
        data = stack.to_dict()
        secret_at = _literal_secret_path(data)
        if secret_at is not None:
            raise StackRegistryError(
                f"stack {stack.name!r} holds a literal secret at {secret_at}; registrations are "
                "stored on disk",
                hint="give the secret as ${VAR} (an environment variable reference)",
            )
        return data

    def set_active_stack(self, name: str) -> Stack:
        """Make ``name`` the active stack.

        Returns:
            The stack.

        Raises:
            UnknownStackError: No such stack.
        """
        stack = self.get_stack(name)

        def change(doc: dict[str, Any]) -> None:
            doc["active"] = name

        self._file().update(change)
        return stack

    def remove_stack(self, name: str) -> None:
        """Forget the registered stack ``name`` (never touches its infrastructure).

        Raises:
            StackRegistryError: ``name`` is declared in a config file (remove it there) or is the
                built-in local stack.
            UnknownStackError: No such stack.
        """
        config = self.config()
        if name in config.sources:
            raise StackRegistryError(
                f"stack {name!r} is declared in {config.sources[name]}, not registered",
                hint="remove it from that file",
            )
        if name not in self._file().read().get("stacks", {}):
            if name == BUILTIN_LOCAL:
                raise StackRegistryError(
                    "the built-in local stack cannot be removed",
                    hint="nothing to do: it is used only when no other stack is chosen",
                )
            raise self._unknown(name)

        def change(doc: dict[str, Any]) -> None:
            doc.get("stacks", {}).pop(name, None)
            if doc.get("active") == name:
                doc["active"] = None

        self._file().update(change)


def set_active_stack(name: str | Stack) -> Stack:
    """Make a stack active for new pipelines in this project (persisted across processes).

    Args:
        name: A stack name, or a ``Stack`` (registered first if its name is not known).

    Raises:
        UnknownStackError: No such stack.
    """
    registry = StackRegistry()
    if isinstance(name, Stack):
        if name.name not in registry.list_stacks() or name.name == BUILTIN_LOCAL:
            registry.register_stack(name)
        name = name.name
    return registry.set_active_stack(name)


def get_active_stack() -> Stack | None:
    """The project's active stack, or ``None`` when none was set."""
    return StackRegistry().get_active_stack()


def resolve_stack(
    explicit: Stack | str | None = None, pipeline_stack: Stack | str | None = None
) -> Stack:
    """The stack a run uses (precedence in the module docstring).

    Args:
        explicit: The stack given to ``pipeline.run(stack=...)``.
        pipeline_stack: The stack given to ``Pipeline(..., stack=...)``.

    Raises:
        UnknownStackError: A name that no config file, registration or built-in knows.
        StackConfigError: The chosen stack's declaration is broken.
    """
    registry = StackRegistry()
    for candidate in (explicit, pipeline_stack):
        if candidate is None:
            continue
        if isinstance(candidate, Stack):
            registry.remember_run_stack(candidate)
            return candidate
        if isinstance(candidate, str):
            return registry.get_stack(candidate)
        raise StackError(
            f"a stack must be a Stack or a stack name, got {type(candidate).__name__}",
            hint="pass e.g. stack=LocalStack() or stack='local'",
        )
    chosen = os.environ.get("FLOWYML_STACK")
    if chosen:
        return _named(registry, chosen, "FLOWYML_STACK")
    active = registry.get_active_stack()
    if active is not None:
        return active
    config = registry.config()
    environ = {k: v for k, v in os.environ.items() if k != "FLOWYML_STACK"}
    name = select_stack_name(config, environ)
    if name:
        env_value = environ.get("ENVIRONMENT")
        via = "ENVIRONMENT" if env_value in config.environments else "default_stack"
        return _named(registry, name, via)
    return LocalStack()


def _named(registry: StackRegistry, name: str, via: str) -> Stack:
    try:
        return registry.get_stack(name)
    except UnknownStackError as exc:
        message = exc.message.replace(
            f"unknown stack {name!r}", f"unknown stack {name!r} (chosen by {via})", 1
        )
        raise UnknownStackError(message, hint=exc.hint) from None
