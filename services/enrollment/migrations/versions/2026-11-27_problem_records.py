"""Problem records and the working-day calendar their deadlines are counted in.

Revision ID: 0002_problems
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from shared.calendar_store import create_calendar_table, drop_calendar_table

revision = "0002_problems"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_calendar_table(op)
    op.create_table(
        "problem_record",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), nullable=False, index=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("counterpart_student_id", sa.String(40)),
        sa.Column("counterpart_province", sa.String(2)),
        sa.Column("counterpart_ref", sa.String(100)),
        sa.Column("id_digest", sa.String(64), index=True),
        sa.Column("acting_side", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.String(40)),
    )
    op.create_index(
        "problem_record_one_open",
        "problem_record",
        ["kind", "student_id", "counterpart_student_id", "counterpart_province"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    op.drop_table("problem_record")
    drop_calendar_table(op)
