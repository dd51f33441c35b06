"""Outbox, inbox and accounts.

Revision ID: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from shared.bus.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("org_code", sa.String(10), nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("student_id", sa.String(40), unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("province_code", sa.String(2)),
        sa.Column("city_code", sa.String(4)),
        sa.Column("county_code", sa.String(6)),
        sa.Column("school_code", sa.String(10), index=True),
        sa.Column("student_event_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'not_activated', 'deactivated')", name="account_status_known"
        ),
        sa.CheckConstraint(
            "(role = 'student') = (student_id IS NOT NULL)", name="account_student_id_iff_student"
        ),
    )


def downgrade() -> None:
    op.drop_table("account")
    drop_messaging_tables(op)
