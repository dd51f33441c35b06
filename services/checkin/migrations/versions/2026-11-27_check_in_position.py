"""What the position and the device said about a check-in, kept until its face result arrives;
and the working-day calendar that miss prompts and appeals count deadlines in (startup seeds it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from shared.calendar_store import create_calendar_table, drop_calendar_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # inside | outside | straddles (the accuracy circle crosses the boundary)
    op.add_column("check_in", sa.Column("geofence", sa.String(length=10), nullable=True))
    # normal | internship | off_campus: the result the position alone gives; cheating signs and
    # the face check can only turn it into suspected_cheating.
    op.add_column("check_in", sa.Column("position_result", sa.String(length=20), nullable=True))
    # One device checked in many students of the round just before: the face decides, and a
    # mismatch then says shared_device.
    op.add_column(
        "check_in", sa.Column("shared_device", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    create_calendar_table(op)  # checkfirst: harmless if another revision created it


def downgrade() -> None:
    drop_calendar_table(op)
    op.drop_column("check_in", "shared_device")
    op.drop_column("check_in", "position_result")
    op.drop_column("check_in", "geofence")
