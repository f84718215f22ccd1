"""Applies the Alembic migrations programmatically, once, even with several processes opening.

The upgrade runs on the caller's connection inside one transaction that first takes a
database-wide lock, so concurrent openers queue instead of racing to create the same tables:
SQLite's ``BEGIN IMMEDIATE`` write lock, PostgreSQL's ``pg_advisory_xact_lock`` or MySQL's
``GET_LOCK``. The revision is checked again after the lock is held.

Opening a store whose schema is current is the common case (every run): it reads the
``alembic_version`` row with a plain query against :data:`HEAD_REVISION` and imports nothing
of Alembic (about 0.15 s of imports). A test keeps :data:`HEAD_REVISION` equal to the head of
the shipped migrations.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).resolve().parent
_LOCK_NAME = "flowyml_metadata_migrate"
_MYSQL_LOCK_TIMEOUT_S = 120
HEAD_REVISION = "0002"
"""The newest revision shipped (kept equal to the migrations' head by a test)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic config of the metadata schema (optionally bound to ``connection``)."""
    from alembic.config import Config

    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision shipped with this flowyml (read from the migration scripts)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        key = zlib.crc32(_LOCK_NAME.encode())
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect in ("mysql", "mariadb"):
        got = connection.execute(
            sa.text("SELECT GET_LOCK(CONCAT(DATABASE(), :name), :timeout)"),
            {"name": _LOCK_NAME, "timeout": _MYSQL_LOCK_TIMEOUT_S},
        ).scalar()
        if got != 1:
            raise TimeoutError("timed out waiting for another process to migrate the schema")
    # SQLite: the engine's BEGIN IMMEDIATE already holds the database write lock.


def _unlock(connection: Connection) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.execute(
            sa.text("SELECT RELEASE_LOCK(CONCAT(DATABASE(), :name))"), {"name": _LOCK_NAME}
        )


def _recorded_revision(connection: Connection) -> str | None:
    """The ``alembic_version`` row, read without Alembic (``None``: no such table or row)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row is not None else None


def upgrade(engine: Engine) -> bool:
    """Bring the schema behind ``engine`` to head.

    Returns:
        True when migrations ran, False when the schema was already at head.
    """
    with engine.connect() as connection:
        if _recorded_revision(connection) == HEAD_REVISION:
            connection.rollback()
            return False
        connection.rollback()
        from alembic import command

        head = head_revision()
        with connection.begin():
            _lock(connection)
            try:
                if current_revision(connection) == head:
                    return False
                command.upgrade(alembic_config(connection), "head")
                return True
            finally:
                _unlock(connection)
