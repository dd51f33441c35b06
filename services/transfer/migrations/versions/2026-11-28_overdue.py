"""Overdue review steps flagged to the superior office, once per case and level; and the
province's working-day calendar the 10-working-day deadlines count in (start seeds it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from shared.calendar_store import create_calendar_table, drop_calendar_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_overdue",
        sa.Column("transfer_id", sa.String(36), sa.ForeignKey("transfer_case.id"), primary_key=True),
        sa.Column("level", sa.String(30), primary_key=True),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("superior_level", sa.String(20), nullable=False),
        # NULL when the superior is the ministry, which has no organisation code in a province.
        sa.Column("superior_org", sa.String(10)),
    )
    # The overdue list a bureau reads is "flags where I am the superior".
    op.create_index("transfer_overdue_superior", "transfer_overdue", ["superior_level", "superior_org"])
    create_calendar_table(op)  # checkfirst: harmless if another revision created it


def downgrade() -> None:
    drop_calendar_table(op)
    op.drop_index("transfer_overdue_superior", table_name="transfer_overdue")
    op.drop_table("transfer_overdue")
