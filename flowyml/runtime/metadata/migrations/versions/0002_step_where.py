"""Where a step ran: executor kind, captured-log URI and run details on step_runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no batch mode needed, SQLite adds nullable columns in place.
    op.add_column("step_runs", sa.Column("executor", sa.String(64)))
    op.add_column("step_runs", sa.Column("log_uri", sa.Text()))
    op.add_column("step_runs", sa.Column("details", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("details")
        batch.drop_column("log_uri")
        batch.drop_column("executor")
