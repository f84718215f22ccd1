"""Portable upserts: one statement per batch on SQLite, PostgreSQL and MySQL/MariaDB.

Statements are built once per (dialect, table, columns) and reused: building an
``ON CONFLICT`` clause aliases the table, which costs more than the SQLite write itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

_MYSQL = ("mysql", "mariadb")


@functools.lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, table: sa.Table, keys: tuple[str, ...], update: tuple[str, ...]
) -> sa.Executable | None:
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        stmt = module.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )
    if dialect in _MYSQL:
        my = mysql.insert(table)
        return my.on_duplicate_key_update({c: my.inserted[c] for c in update})
    return None


@functools.lru_cache(maxsize=64)
def _insert_ignore_statement(dialect: str, table: sa.Table) -> sa.Executable | None:
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        return module.insert(table).on_conflict_do_nothing()
    if dialect in _MYSQL:
        # A no-op update rather than INSERT IGNORE, which would also hide real errors.
        key = next(iter(table.primary_key.columns)).name
        my = mysql.insert(table)
        return my.on_duplicate_key_update({key: my.inserted[key]})
    return None


def upsert(
    connection: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows``; where ``keys`` collide, overwrite the ``update`` columns."""
    stmt = _upsert_statement(connection.dialect.name, table, tuple(keys), tuple(update))
    if stmt is not None:
        connection.execute(stmt, list(rows))
        return
    for row in rows:  # Any other backend: update, then insert what was not there.
        match = sa.and_(*(table.c[k] == row[k] for k in keys))
        result = connection.execute(table.update().where(match).values({c: row[c] for c in update}))
        if result.rowcount == 0:
            connection.execute(table.insert().values(row))


def insert_ignore(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, leaving rows whose primary key already exists untouched."""
    stmt = _insert_ignore_statement(connection.dialect.name, table)
    if stmt is not None:
        connection.execute(stmt, list(rows))
        return
    pk = [c.name for c in table.primary_key.columns]
    for row in rows:
        match = sa.and_(*(table.c[k] == row[k] for k in pk))
        if connection.execute(sa.select(sa.literal(1)).where(match)).first() is None:
            connection.execute(table.insert().values(row))
