"""Alembic environment of flowyml's metadata schema.

flowyml passes an open connection in ``config.attributes["connection"]`` and owns the
transaction around it. For hand-run Alembic commands a URL comes from ``-x url=...``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context


def _run(connection: sa.engine.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database with: alembic -x url=<sqlalchemy url> ...")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


_main()
