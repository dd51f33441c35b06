"""Outbox, inbox, transfer cases with their timelines, and the school read model.

Revision ID: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.bus.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "transfer_case",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
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
        sa.Column("origin_check_reasons", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("dest_checked", sa.Boolean),
        sa.Column("dest_check_reasons", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("student_summary", JSONB),
        sa.Column("records_arrived_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "transfer_case_one_open_per_student",
        "transfer_case",
        ["student_number"],
        unique=True,
        postgresql_where=sa.text("state NOT IN ('CANCELLED', 'COMPLETED', 'REJECTED')"),
    )
    # The lineage columns every jurisdiction filter and the review queue read.
    for column in ("dest_school", "dest_county", "origin_school", "origin_county"):
        op.create_index(f"transfer_case_{column}", "transfer_case", [column])
    op.create_table(
        "transfer_step",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "transfer_id", sa.String(36), sa.ForeignKey("transfer_case.id"), nullable=False, index=True
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20)),
        sa.Column("state_after", sa.String(30), nullable=False),
        sa.Column("actor_username", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("actor_org", sa.String(10), nullable=False),
        sa.Column("actor_province", sa.String(2), nullable=False),
        sa.Column("opinion", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("transfer_id", "seq", name="transfer_step_seq"),
    )
    op.create_table(
        "school_view",
        sa.Column("school_code", sa.String(10), primary_key=True),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("city", sa.String(4), nullable=False),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("school_type", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("school_view")
    op.drop_table("transfer_step")
    op.drop_table("transfer_case")
    drop_messaging_tables(op)
