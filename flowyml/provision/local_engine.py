"""The native engine for the local stack: an artifact directory and a migrated SQLite database.

Two resources, addressed ``<type>::<name>`` (there is no Pulumi URN here):
``flowyml:local:ArtifactRoot::artifacts`` and ``flowyml:local:SqliteDatabase::metadata``.

Invariants:
- ``up`` is idempotent: a second ``up`` changes nothing and reports no changes.
- ``up`` and ``destroy`` hold the stack's lock (see :func:`flowyml.provision.state.stack_lock`);
  a concurrent one waits up to ``lock_timeout`` seconds, then fails with ``StackLockedError``.
- ``destroy`` never deletes the project directory, one of its ancestors or the home directory,
  whatever the declaration says.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowyml.core.outputs import ARTIFACT_URI, EXECUTOR, METADATA_URL, StackOutputs
from flowyml.core.paths import project_dir
from flowyml.core.plan import CREATE, DELETE, NOOP, UPDATE, Actions, Plan, ResourceChange
from flowyml.provision.engine import OnEvent, Precondition, UpResult
from flowyml.provision.errors import StateError, UnsupportedStackError
from flowyml.provision.events import Progress
from flowyml.provision.state import (
    DEFAULT_LOCK_TIMEOUT,
    delete_outputs,
    load_outputs,
    require_outputs,
    save_outputs,
    stack_lock,
)

if TYPE_CHECKING:
    from flowyml.stacks.base import Stack

ENGINE_NAME = "local"
ARTIFACT_ROOT_TYPE = "flowyml:local:ArtifactRoot"
DATABASE_TYPE = "flowyml:local:SqliteDatabase"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class _Layout:
    """Where the local stack's two resources live."""

    artifacts: Path
    database: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database.as_posix()}"


def _layout(stack: Stack) -> _Layout:
    if stack.stack_type != "local":
        raise UnsupportedStackError(
            f"the local engine provisions local stacks only, not {stack.stack_type} stack "
            f"{stack.name}."
        )
    artifact_path = Path(str(getattr(stack, "artifact_path", ".flowyml/artifacts"))).expanduser()
    database_path = Path(str(getattr(stack, "metadata_path", ".flowyml/metadata.db"))).expanduser()
    root = project_dir()
    return _Layout(
        artifacts=(
            artifact_path if artifact_path.is_absolute() else root / artifact_path
        ).resolve(),
        database=(database_path if database_path.is_absolute() else root / database_path).resolve(),
    )


def _schema_revision(database: Path) -> str | None:
    """The Alembic revision of an existing SQLite file, read without SQLAlchemy (cheap)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _head_revision() -> str | None:
    from flowyml.runtime.metadata.migrate import head_revision

    return head_revision()


def _tree_size(path: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                size += (Path(dirpath) / name).stat().st_size
                files += 1
    return files, size


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _guard_deletable(path: Path) -> None:
    """Refuse to delete a directory whose loss would be a disaster, whatever was declared."""
    forbidden = {Path("/"), Path.home().resolve(), project_dir().resolve()}
    forbidden |= set(project_dir().resolve().parents)
    if path.resolve() in forbidden:
        raise StateError(
            f"refusing to delete {path}: it is the project directory, an ancestor of it or home.",
            hint="point the local stack's artifact_path at a dedicated directory",
        )


class LocalEngine:
    """Provisions the local stack natively (no Pulumi).

    Args:
        lock_timeout: Seconds a concurrent ``up``/``destroy`` waits for the stack's lock.
        state_root: The state directory (default: the project's ``.flowyml``).
    """

    name = ENGINE_NAME

    def __init__(
        self, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, state_root: Path | None = None
    ) -> None:
        self.lock_timeout = lock_timeout
        self.state_root = state_root

    # -- planning ---------------------------------------------------------------------------

    def _changes(self, stack: Stack, operation: str) -> tuple[ResourceChange, ...]:
        layout = _layout(stack)
        artifacts_after = {"path": str(layout.artifacts)}
        head = _head_revision() if operation != "destroy" else None
        db_after = {"path": str(layout.database), "schemaRevision": head}
        exists_a = layout.artifacts.is_dir()
        exists_d = layout.database.is_file()
        current = _schema_revision(layout.database) if exists_d else None
        db_before = {"path": str(layout.database), "schemaRevision": current} if exists_d else None
        a_before = artifacts_after if exists_a else None

        def change(
            type_: str,
            name: str,
            actions: Actions,
            before: Any,
            after: Any,
            diff: tuple[str, ...] = (),
        ) -> ResourceChange:
            return ResourceChange(
                address=f"{type_}::{name}",
                type=type_,
                name=name,
                actions=actions,
                before=before,
                after=after,
                diff_keys=diff,
                data_bearing=True,
            )

        if operation == "destroy":
            return tuple(
                change(t, n, DELETE, before, None)
                for t, n, before in (
                    (ARTIFACT_ROOT_TYPE, "artifacts", a_before),
                    (DATABASE_TYPE, "metadata", db_before),
                )
                if before is not None
            )
        db_actions = CREATE if not exists_d else (NOOP if current == head else UPDATE)
        return (
            change(
                ARTIFACT_ROOT_TYPE,
                "artifacts",
                NOOP if exists_a else CREATE,
                a_before,
                artifacts_after,
            ),
            change(
                DATABASE_TYPE,
                "metadata",
                db_actions,
                db_before,
                db_after,
                ("schemaRevision",) if db_actions == UPDATE else (),
            ),
        )

    def observed_state(self, stack: Stack) -> dict[str, Any]:
        """What exists now, as the plan sees it (for saved-plan fingerprints): the two
        resources' recorded sides and the recorded outputs."""
        recorded = load_outputs(stack.name, self.state_root)
        return {
            "resources": {c.address: c.before for c in self._changes(stack, "up")},
            "outputs": None if recorded is None else recorded.masked(),
        }

    def preview(self, stack: Stack) -> Plan:
        """What ``up`` would do: create what is missing, migrate an old schema."""
        return Plan(
            stack=stack.name,
            operation="preview",
            engine=self.name,
            changes=self._changes(stack, "up"),
        )

    def destroy_preview(self, stack: Stack) -> Plan:
        """What ``destroy`` would delete, with how much data (as diagnostics)."""
        layout = _layout(stack)
        return Plan(
            stack=stack.name,
            operation="destroy",
            engine=self.name,
            changes=self._changes(stack, "destroy"),
            diagnostics=self._data_notes(layout),
        )

    @staticmethod
    def _data_notes(layout: _Layout) -> tuple[str, ...]:
        notes = []
        if layout.artifacts.is_dir():
            files, size = _tree_size(layout.artifacts)
            notes.append(
                f"deletes {files} artifact file(s), {_human(size)}, under {layout.artifacts}"
            )
        if layout.database.is_file():
            size = layout.database.stat().st_size
            notes.append(
                f"deletes the metadata database {layout.database} ({_human(size)}: "
                "every recorded run, step and lineage)"
            )
        return tuple(notes)

    # -- lifecycle --------------------------------------------------------------------------

    @staticmethod
    def _emit(on_event: OnEvent | None, phase: str, change: ResourceChange) -> None:
        if on_event is None or change.is_noop:
            return
        doing = {"create": "creating", "update": "updating", "delete": "deleting"}[change.verb]
        done = {"create": "created", "update": "updated", "delete": "deleted"}[change.verb]
        word = doing if phase == "start" else done
        on_event(
            Progress(
                phase,
                change.verb,
                change.address,
                change.type,
                change.name,
                f"{word} {change.type} {change.name}",
            )
        )

    def _apply(
        self,
        changes: tuple[ResourceChange, ...],
        on_event: OnEvent | None,
        act: Callable[[ResourceChange], None],
    ) -> None:
        for change in changes:
            self._emit(on_event, "start", change)
            act(change)
            self._emit(on_event, "done", change)

    def up(
        self,
        stack: Stack,
        on_event: OnEvent | None = None,
        *,
        precondition: Precondition | None = None,
    ) -> UpResult:
        """Create the artifact directory and the migrated database; record the outputs.

        Args:
            stack: The local stack.
            on_event: Receives progress.
            precondition: Called holding the stack's lock, before any change (a saved plan's
                check); raising there changes nothing.
        """
        layout = _layout(stack)
        with stack_lock(stack.name, "up", timeout=self.lock_timeout, root=self.state_root):
            if precondition is not None:
                precondition()
            # Plan inside the lock: what a concurrent up did meanwhile is then a no-op here.
            changes = self._changes(stack, "up")

            def act(change: ResourceChange) -> None:
                if change.type == ARTIFACT_ROOT_TYPE:
                    layout.artifacts.mkdir(parents=True, exist_ok=True)
                elif change.type == DATABASE_TYPE:
                    from flowyml.runtime.metadata import SqlMetadataStore

                    layout.database.parent.mkdir(parents=True, exist_ok=True)
                    SqlMetadataStore(layout.database_url, migrate=True).close()

            self._apply(changes, on_event, act)
            outputs = StackOutputs(
                stack=stack.name,
                values={
                    ARTIFACT_URI: layout.artifacts.as_uri(),
                    # A SQLite URL holds no credential, so it is not a secret here.
                    METADATA_URL: layout.database_url,
                    EXECUTOR: "local",
                },
                secrets=frozenset(),
                engine=self.name,
            )
            save_outputs(outputs, self.state_root)
        plan = Plan(stack=stack.name, operation="up", engine=self.name, changes=changes)
        return UpResult(plan=plan, outputs=outputs)

    def destroy(self, stack: Stack, on_event: OnEvent | None = None) -> Plan:
        """Delete the artifact directory, the database and the recorded outputs."""
        layout = _layout(stack)
        with stack_lock(stack.name, "destroy", timeout=self.lock_timeout, root=self.state_root):
            notes = self._data_notes(layout)
            changes = self._changes(stack, "destroy")

            def act(change: ResourceChange) -> None:
                if change.type == ARTIFACT_ROOT_TYPE:
                    _guard_deletable(layout.artifacts)
                    shutil.rmtree(layout.artifacts)
                elif change.type == DATABASE_TYPE:
                    for suffix in ("", *_SQLITE_SIDECARS):
                        with contextlib.suppress(FileNotFoundError):
                            Path(f"{layout.database}{suffix}").unlink()

            self._apply(changes, on_event, act)
            delete_outputs(stack.name, self.state_root)
        return Plan(
            stack=stack.name,
            operation="destroy",
            engine=self.name,
            changes=changes,
            diagnostics=notes,
        )

    def refresh(self, stack: Stack) -> Plan:
        """Compare the recorded outputs with the disk; forget them when both resources are gone."""
        layout = _layout(stack)
        recorded = load_outputs(stack.name, self.state_root)
        changes = []
        for type_, name, path, present in (
            (ARTIFACT_ROOT_TYPE, "artifacts", layout.artifacts, layout.artifacts.is_dir()),
            (DATABASE_TYPE, "metadata", layout.database, layout.database.is_file()),
        ):
            state = {"path": str(path)}
            gone = recorded is not None and not present
            changes.append(
                ResourceChange(
                    address=f"{type_}::{name}",
                    type=type_,
                    name=name,
                    actions=DELETE if gone else NOOP,
                    before=state if recorded is not None else None,
                    after=None if gone else state,
                    data_bearing=True,
                )
            )
        diagnostics: list[str] = []
        if recorded is not None and all(c.actions == DELETE for c in changes):
            delete_outputs(stack.name, self.state_root)
            diagnostics.append("both resources are gone from disk: recorded outputs forgotten")
        elif recorded is None:
            diagnostics.append(f"stack {stack.name} has no recorded outputs (never brought up)")
        return Plan(
            stack=stack.name,
            operation="refresh",
            engine=self.name,
            changes=tuple(changes),
            diagnostics=tuple(diagnostics),
        )

    def outputs(self, stack: Stack) -> StackOutputs:
        """The outputs recorded by the last ``up``."""
        return require_outputs(stack.name, self.state_root)
