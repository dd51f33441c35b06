"""Outbox, inbox, the student read model and campus boundaries.

Revision ID: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.bus.tables import create_messaging_tables, drop_messaging_tables
from shared.readmodels import student_view_columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table("student_view", *student_view_columns())
    op.create_table(
        "campus_view",
        sa.Column("campus_id", sa.String(60), primary_key=True),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("crs", sa.String(10), nullable=False),
        sa.Column("boundary", JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campus_view")
    op.drop_table("student_view")
    drop_messaging_tables(op)
