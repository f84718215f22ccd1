"""Initial schema: pipelines, runs, step_runs, artifacts, lineage.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types (revisions must not change when the app code does).
_Time = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", _Time, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(255), sa.ForeignKey("pipelines.name", name="fk_runs_pipeline"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _Time, nullable=False),
        sa.Column("ended_at", _Time),
        sa.Column("stack", sa.String(255)),
        sa.Column("params", sa.JSON()),
        sa.Column("error", _LongText),
    )
    op.create_index("ix_runs_pipeline_started", "runs", ["pipeline", "started_at"])
    op.create_index("ix_runs_started", "runs", ["started_at"])
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", name="fk_step_runs_run", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _Time),
        sa.Column("ended_at", _Time),
        sa.Column("duration", sa.Float()),
        sa.Column("cache_key", sa.String(128)),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("error", _LongText),
        sa.Column("stack", sa.String(255)),
        sa.Column("resources", sa.JSON()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("upstream", sa.JSON()),
        sa.UniqueConstraint("run_id", "name", name="uq_step_runs_run_name"),
    )
    op.create_index("ix_step_runs_cache_key", "step_runs", ["cache_key"])
    op.create_table(
        "artifacts",
        sa.Column("uri_digest", sa.String(64), primary_key=True),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("materializer", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("producer_run_id", sa.String(64), nullable=False),
        sa.Column("producer_step", sa.String(255), nullable=False),
        sa.Column("output_name", sa.String(255), nullable=False),
        sa.Column("created_at", _Time, nullable=False),
    )
    op.create_index("ix_artifacts_producer", "artifacts", ["producer_run_id", "producer_step"])
    op.create_table(
        "lineage",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("step", sa.String(255), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("artifact_digest", sa.String(64), sa.ForeignKey("artifacts.uri_digest", name="fk_lineage_artifact"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "step"],
            ["step_runs.run_id", "step_runs.name"],
            ondelete="CASCADE",
            name="fk_lineage_step_run",
        ),
    )
    op.create_index("ix_lineage_artifact", "lineage", ["artifact_digest"])


def downgrade() -> None:
    op.drop_table("lineage")
    op.drop_table("artifacts")
    op.drop_table("step_runs")
    op.drop_table("runs")
    op.drop_table("pipelines")
