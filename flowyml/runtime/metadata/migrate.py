"""Applies the Alembic migrations programmatically, once, even with several processes opening.

The upgrade runs on the caller's connection inside one transaction that first takes a
database-wide lock, so concurrent openers queue instead of racing to create the same tables:
SQLite's ``BEGIN IMMEDIATE`` write lock, PostgreSQL's ``pg_advisory_xact_lock`` or MySQL's
``GET_LOCK``. The revision is checked again after the lock is held.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

_HERE = Path(__file__).resolve().parent
_LOCK_NAME = "flowyml_metadata_migrate"
_MYSQL_LOCK_TIMEOUT_S = 120


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic config of the metadata schema (optionally bound to ``connection``)."""
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision shipped with this flowyml."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
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


def upgrade(engine: Engine) -> bool:
    """Bring the schema behind ``engine`` to head.

    Returns:
        True when migrations ran, False when the schema was already at head.
    """
    head = head_revision()
    with engine.connect() as connection:
        if current_revision(connection) == head:
            connection.rollback()
            return False
        connection.rollback()
        with connection.begin():
            _lock(connection)
            try:
                if current_revision(connection) == head:
                    return False
                command.upgrade(alembic_config(connection), "head")
                return True
            finally:
                _unlock(connection)
