"""Reviews and approval chains, evidence files, filings, guardians; school stage and supervisor.

Revision ID: 0004_workflow
Revises: 0002_problems
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_workflow"
down_revision = "0002_problems"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "school", sa.Column("stage", sa.String(40), nullable=False, server_default="secondary_vocational")
    )
    op.add_column("school", sa.Column("supervisor_code", sa.String(6)))
    op.create_table(
        "approval_chain_rule",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("business_type", sa.String(60), nullable=False),
        sa.Column("school_type", sa.String(40)),
        sa.Column("stage", sa.String(40)),
        sa.Column("region", sa.String(6)),
        sa.Column("levels", JSONB, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index(
        "approval_chain_rule_key",
        "approval_chain_rule",
        ["business_type", "school_type", "stage", "region"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "review_item",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("business_type", sa.String(60), nullable=False, index=True),
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), index=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False, index=True),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("chain", JSONB, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("current_level", sa.String(10)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("evidence_ids", JSONB, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("step_started_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("overdue_flagged_on", sa.Date),
        sa.Column("returned_reason", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("review_item_queue", "review_item", ["state", "current_level", "due_on"])
    op.create_table(
        "review_decision",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("item_id", sa.String(40), sa.ForeignKey("review_item.id"), nullable=False, index=True),
        sa.Column("level", sa.String(10)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("opinion", sa.Text, nullable=False, server_default=""),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "filing",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("intake_year", sa.Integer, nullable=False),
        sa.Column("season", sa.String(10), nullable=False),
        sa.Column("filed_count", sa.Integer, nullable=False),
        sa.Column("refused", JSONB, nullable=False),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "student_filing",
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), primary_key=True),
        sa.Column("filing_id", sa.String(40), sa.ForeignKey("filing.id"), nullable=False, index=True),
    )
    op.create_table(
        "student_guardian",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "student_guardian",
        "student_filing",
        "filing",
        "evidence_file",
        "review_decision",
        "review_item",
        "approval_chain_rule",
    ):
        op.drop_table(table)
    op.drop_column("school", "supervisor_code")
    op.drop_column("school", "stage")
