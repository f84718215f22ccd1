"""Where the project's runs are recorded: the metadata stores ``flowyml runs`` reads.

With ``--stack NAME`` only that stack's store is read. Otherwise the chosen stack's (active,
default or local) store comes first, then every other store of the project that can be read
without a network connection: the SQLite databases of its declared and registered stacks and
of the stacks that runs were given as Python objects (remembered by the registry). A store that
was never created is skipped: reading never creates one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowyml.core.errors import FlowymlError
from flowyml.core.records import RunRecord


@dataclass(frozen=True)
class RunSource:
    """One readable metadata store and the stack it belongs to.

    Attributes:
        stack: The declaration.
        bound: The bound stack (its ``metadata_store`` and ``artifact_store``).
        origin: How the stack is known: ``active``, ``declared``, ``python`` or ``named``.
    """

    stack: Any
    bound: Any
    origin: str


_SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_file(stack: Any) -> Path | None:
    """The SQLite file of ``stack``'s metadata store (``None``: not a SQLite file store)."""
    store: Any = getattr(stack, "metadata_store", None)
    if getattr(store, "kind", None) != "sqlite" or store.path == ":memory:":
        return None
    from flowyml.stacks.components.artifact_stores import resolve_local_path

    return resolve_local_path(store.path)


def check_sqlite_file(stack: Any) -> None:
    """Refuse a metadata file that is not a SQLite database, naming it (corrupt or foreign).

    Raises:
        MetadataError: The file exists and does not start with SQLite's header.
    """
    path = sqlite_file(stack)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        from flowyml.runtime.errors import MetadataError

        raise MetadataError(
            f"{path} (the metadata store of stack {stack.name}) is not a SQLite database: "
            "the file is corrupt or is another kind of file",
            hint=f"move it away (`mv {path} {path}.broken`); the next run creates a fresh one "
            "(the runs recorded in it are not readable any more)",
        )


def _sqlite_missing(stack: Any) -> bool:
    path = sqlite_file(stack)
    return path is not None and not path.exists()


def _is_local(stack: Any) -> bool:
    store = getattr(stack, "metadata_store", None)
    return not getattr(stack, "needs_provisioning", False) and getattr(store, "kind", None) in (
        "sqlite",
        None,
    )


def open_source(stack: Any, origin: str) -> RunSource | None:
    """Bind ``stack`` for reading, or ``None`` when its SQLite store does not exist yet.

    Raises:
        StackNotProvisionedError: a cloud stack never brought up.
    """
    from flowyml.runtime.binding import bind_stack

    if _sqlite_missing(stack):
        return None
    check_sqlite_file(stack)
    return RunSource(stack, bind_stack(stack), origin)


def named_stack(name: str) -> tuple[Any, str]:
    """The stack called ``name``: registered or declared, else one a Python run used."""
    from flowyml.stacks.errors import UnknownStackError
    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    try:
        return registry.get_stack(name), "named"
    except UnknownStackError:
        for stack in registry.run_stacks():
            if stack.name == name:
                return stack, "python"
        raise


def sources(stack_name: str | None) -> Iterator[RunSource]:
    """The readable stores, in the order described in the module docstring (each once)."""
    from flowyml.stacks.registry import StackRegistry, resolve_stack

    if stack_name is not None:
        stack, origin = named_stack(stack_name)
        found = open_source(stack, origin)
        if found is not None:
            yield found
        return
    seen: set[int] = set()
    chosen = resolve_stack(None, None)
    first = _open_chosen(chosen)
    if first is not None:
        seen.add(id(first.bound.metadata_store))
        yield first
    registry = StackRegistry()
    others = [(e.stack, "declared") for e in registry.entries() if e.stack is not None]
    others += [(s, "python") for s in registry.run_stacks()]
    for stack, origin in others:
        if not _is_local(stack):
            continue
        try:
            found = open_source(stack, origin)
        except FlowymlError as exc:  # one unreadable store must not hide the others
            warnings.warn(
                f"the runs of stack {stack.name} are not listed: {exc}", UserWarning, stacklevel=2
            )
            continue
        if found is None or id(found.bound.metadata_store) in seen:
            continue
        seen.add(id(found.bound.metadata_store))
        yield found


def _open_chosen(stack: Any) -> RunSource | None:
    from flowyml.runtime.errors import StackNotProvisionedError

    try:
        return open_source(stack, "active")
    except StackNotProvisionedError:
        return None  # nothing can be recorded on a stack never brought up


def find_run(run_id: str, stack_name: str | None) -> tuple[RunRecord, RunSource]:
    """The run ``run_id`` (a unique prefix works) and the store holding it.

    Raises:
        RunNotFoundError: No readable store of the project has it.
    """
    from flowyml.runtime.errors import RunNotFoundError

    searched = 0
    for source in sources(stack_name):
        searched += 1
        try:
            return source.bound.metadata_store.get_run(run_id), source
        except RunNotFoundError:
            continue
    where = f"stack {stack_name!r}" if stack_name else "this project's stores"
    if not searched:
        raise RunNotFoundError(
            f"no run with id {run_id!r}: no runs are recorded in {where} yet",
            hint="run a pipeline with `flowyml run FILE` first.",
        )
    raise RunNotFoundError(
        f"no run with id {run_id!r} in {where}",
        hint="list runs with `flowyml runs list` (add --stack NAME for a cloud stack's store).",
    )
