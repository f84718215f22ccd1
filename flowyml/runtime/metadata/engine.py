"""Engines for the metadata store: pooled, with SQLite set up for several writers at once.

SQLite gets WAL (readers never block the writer), a 30 s busy timeout, ``synchronous=NORMAL``
(safe in WAL mode; a power cut may lose the last commits, never corrupt the file) and foreign
keys. Write transactions start with ``BEGIN IMMEDIATE`` so two processes queue on the busy
timeout instead of failing with "database is locked" when a reader upgrades to a writer.
Read-only work opts out with :data:`READ_ONLY`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from flowyml.stacks.secret_refs import is_secret_query_key

BUSY_TIMEOUT_MS = 30_000
# Execution option marking a connection whose transactions only read.
READ_ONLY = "flowyml_read_only"


def mask_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***`` (safe to print or log)."""
    try:
        parsed = sa.make_url(url)
        secret_keys = [key for key in parsed.query if is_secret_query_key(key)]
        if secret_keys:
            # libpq and pymysql also take a password as a query parameter.
            parsed = parsed.update_query_dict(dict.fromkeys(secret_keys, "***"))
        if "@" in (parsed.host or ""):
            # A password with an unencoded "@": its rest was parsed as the host.
            return "<unparseable database URL>"
        return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
    except Exception:
        # Unparseable: say nothing that could contain a secret.
        return "<unparseable database URL>"


def url_secrets(url: str | URL) -> tuple[str, ...]:
    """The parts of ``url`` a message must not repeat: its password, secret query values, and a
    host holding an ``@`` (the rest of a password with an unencoded ``@``)."""
    try:
        parsed = sa.make_url(url)
    except Exception:
        return (str(url),) if isinstance(url, str) else ()
    found = [str(parsed.password or "")]
    found += [str(v) for k, v in parsed.query.items() if is_secret_query_key(k)]
    if "@" in (parsed.host or ""):
        found.append(str(parsed.host).split("@", 1)[0])
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def _json_serializer(value: Any) -> str:
    # Resource configs carry Decimals and params may carry dates: keep them as text.
    return json.dumps(value, default=str)


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_metadata_engine(url: str | URL, options: Mapping[str, Any] | None = None) -> Engine:
    """A pooled engine for ``url`` (SQLite, PostgreSQL or MySQL/MariaDB).

    Args:
        url: SQLAlchemy URL. A SQLite file's parent directory is created.
        options: Extra ``create_engine`` keyword arguments.
    """
    parsed = sa.make_url(url)
    kwargs: dict[str, Any] = {"json_serializer": _json_serializer}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        if _is_memory_sqlite(parsed):
            # One shared connection, or each checkout would see a new empty database.
            kwargs["poolclass"] = StaticPool
        else:
            Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    elif backend in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        # Servers drop idle connections after wait_timeout (8 h by default).
        kwargs["pool_recycle"] = 3600
        # REPEATABLE READ's gap locks make concurrent upserts deadlock; nothing here needs it.
        kwargs["isolation_level"] = "READ COMMITTED"
    kwargs.update(options or {})
    engine = sa.create_engine(parsed, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine
