"""Yearly in-school snapshots (FM8), nationality and ethnicity on the record, and the school
registrar's pending actions (待办) opened by check-in's reports.

Revision ID: 0006_enrollment_gaps
Revises: 0004_workflow
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006_enrollment_gaps"
down_revision = "0004_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "in_school_snapshot",
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("taken_on", sa.Date, nullable=False),
    )
    op.add_column("student", sa.Column("nationality", sa.String(3)))
    op.add_column("student", sa.Column("ethnicity", sa.String(2)))
    op.create_table(
        "pending_action",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("source_key", sa.String(120), nullable=False),
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), nullable=False, index=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False, index=True),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("term", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("overdue_flagged_on", sa.Date),
        sa.Column("review_id", sa.String(40), sa.ForeignKey("review_item.id")),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_by_appeal", sa.String(40)),
        sa.Column("reverted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("kind", "source_key", name="pending_action_source"),
    )
    op.create_index("pending_action_open", "pending_action", ["state", "due_on"])


def downgrade() -> None:
    op.drop_index("pending_action_open", table_name="pending_action")
    op.drop_table("pending_action")
    op.drop_column("student", "ethnicity")
    op.drop_column("student", "nationality")
    op.drop_table("in_school_snapshot")
