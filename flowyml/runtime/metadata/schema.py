"""Table definitions the store queries with (SQLAlchemy Core).

The DDL itself lives in the Alembic revisions under ``migrations/versions``; this module must
describe the same tables at head. Times are stored as naive UTC (``DATETIME(6)`` on MySQL, so
sub-second durations survive) and returned timezone-aware.

Lineage holds one row per edge between a step run and an artifact: ``direction='input'`` for
what the step consumed, ``'output'`` for what it returned. A cached step has ``output`` edges to
the artifacts its original producer wrote, which is how ``get_run`` shows them and how
``find_cached`` serves them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

INPUT = "input"
OUTPUT = "output"


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


_LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

metadata = sa.MetaData()

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("pipeline", sa.String(255), sa.ForeignKey("pipelines.name"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime()),
    sa.Column("stack", sa.String(255)),
    sa.Column("params", sa.JSON()),
    sa.Column("error", _LongText),
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("ended_at", UTCDateTime()),
    sa.Column("duration", sa.Float()),
    sa.Column("cache_key", sa.String(128)),
    sa.Column("cached", sa.Boolean(), nullable=False),
    sa.Column("error", _LongText),
    sa.Column("stack", sa.String(255)),
    sa.Column("resources", sa.JSON()),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("upstream", sa.JSON()),
    sa.Column("executor", sa.String(64)),
    sa.Column("log_uri", sa.Text()),
    sa.Column("details", sa.JSON()),
    sa.UniqueConstraint("run_id", "name", name="uq_step_runs_run_name"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    # sha256 of the URI: a unique key short enough for MySQL's index limit.
    sa.Column("uri_digest", sa.String(64), primary_key=True),
    sa.Column("uri", sa.Text(), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("materializer", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("content_hash", sa.String(80), nullable=False),
    sa.Column("producer_run_id", sa.String(64), nullable=False),
    sa.Column("producer_step", sa.String(255), nullable=False),
    sa.Column("output_name", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

lineage = sa.Table(
    "lineage",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("step", sa.String(255), primary_key=True),
    sa.Column("direction", sa.String(8), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column(
        "artifact_digest", sa.String(64), sa.ForeignKey("artifacts.uri_digest"), nullable=False
    ),
    sa.ForeignKeyConstraint(
        ["run_id", "step"],
        ["step_runs.run_id", "step_runs.name"],
        ondelete="CASCADE",
        name="fk_lineage_step_run",
    ),
)
