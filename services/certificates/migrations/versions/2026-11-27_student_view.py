"""Outbox, inbox and the student read model.

Revision ID: 0001
Create Date: 2026-11-27
"""

from alembic import op

from shared.bus.tables import create_messaging_tables, drop_messaging_tables
from shared.readmodels import student_view_columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table("student_view", *student_view_columns())


def downgrade() -> None:
    op.drop_table("student_view")
    drop_messaging_tables(op)
