"""Check-in starts anew at a transfer's destination: since when a student's misses and leave
count, and why a transfer ended an open leave.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("student_view", sa.Column("counting_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("leave", sa.Column("end_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("leave", "end_reason")
    op.drop_column("student_view", "counting_since")
