"""Every kind of transfer: cases as one province's copy (state + pending level + chain), shared
timelines by step id, parked early messages, evidence, look-ups, configured chains.

The walking skeleton's two tables are replaced, not altered: they only ever held demo cases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN_WHERE = "state NOT IN ('CANCELLED', 'COMPLETED', 'EXPIRED', 'REJECTED')"


def upgrade() -> None:
    op.drop_table("transfer_step")
    op.drop_table("transfer_case")
    op.create_table(
        "transfer_case",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("pending_level", sa.String(30)),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chain", JSONB, nullable=False),
        sa.Column("batch_id", sa.String(36), index=True),
        sa.Column("student_number", sa.String(40), nullable=False),
        sa.Column("student_name", sa.String(100), nullable=False),
        sa.Column("student_id", sa.String(40)),
        sa.Column("origin_province", sa.String(2), nullable=False),
        sa.Column("origin_city", sa.String(4)),
        sa.Column("origin_county", sa.String(6)),
        sa.Column("origin_school", sa.String(10)),
        sa.Column("origin_school_name", sa.String(200)),
        sa.Column("dest_province", sa.String(2), nullable=False),
        sa.Column("dest_city", sa.String(4), nullable=False),
        sa.Column("dest_county", sa.String(6), nullable=False),
        sa.Column("dest_school", sa.String(10), nullable=False),
        sa.Column("dest_school_name", sa.String(200), nullable=False),
        sa.Column("dest_class_id", sa.String(40)),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("origin_checked", sa.Boolean),
        sa.Column("dest_checked", sa.Boolean),
        sa.Column("check_reasons", JSONB, nullable=False, server_default="[]"),
        sa.Column("student_facts", JSONB),
        sa.Column("target_facts", JSONB),
        sa.Column("student_summary", JSONB),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("records_arrived", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "transfer_case_one_open_per_student",
        "transfer_case",
        ["student_number"],
        unique=True,
        postgresql_where=sa.text(OPEN_WHERE),
    )
    op.create_index("transfer_case_created", "transfer_case", ["created_at"])
    op.create_table(
        "transfer_timeline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "transfer_id", sa.String(36), sa.ForeignKey("transfer_case.id"), nullable=False, index=True
        ),
        sa.Column("step_id", sa.String(120), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("level", sa.String(30)),
        sa.Column("state_after", sa.String(30), nullable=False),
        sa.Column("pending_level_after", sa.String(30)),
        sa.Column("actor_username", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("actor_org", sa.String(10), nullable=False),
        sa.Column("actor_province", sa.String(2), nullable=False),
        sa.Column("opinion", sa.Text, nullable=False, server_default=""),
        sa.Column("evidence", JSONB, nullable=False, server_default="[]"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("transfer_id", "step_id", name="transfer_timeline_step"),
        sa.UniqueConstraint("transfer_id", "seq", name="transfer_timeline_seq"),
    )
    op.create_table(
        "transfer_parked_message",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("transfer_id", sa.String(36), nullable=False, index=True),
        sa.Column("message_kind", sa.String(20), nullable=False),
        sa.Column("line", JSONB, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "transfer_evidence",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploader_org", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "transfer_lookup",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("asked_by", sa.String(100), nullable=False),
        sa.Column("asker_org", sa.String(10), nullable=False),
        sa.Column("origin_province", sa.String(2), nullable=False),
        sa.Column("student_number", sa.String(40), nullable=False),
        sa.Column("student_name", sa.String(100), nullable=False),
        sa.Column("found", sa.Boolean),
        sa.Column("student_summary", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "transfer_chain_config",
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("levels", JSONB, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    # The walking skeleton's tables held demo cases only; going back means a fresh database.
    raise NotImplementedError(
        "revision 0002 replaced the walking skeleton's tables; it does not restore them"
    )
