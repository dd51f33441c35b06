"""Rounds, check-ins, leave, internships, misses and appeals; device keys and counselors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counselor_view",
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("counselor_account_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("student_id"),
    )
    op.create_index(
        op.f("ix_counselor_view_counselor_account_id"),
        "counselor_view",
        ["counselor_account_id"],
        unique=False,
    )
    op.create_table(
        "device_key_view",
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_id"),
    )
    op.create_table(
        "internship",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("filed_by", sa.String(length=40), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_internship_school_code"), "internship", ["school_code"], unique=False)
    op.create_index(op.f("ix_internship_student_id"), "internship", ["student_id"], unique=False)
    op.create_table(
        "leave",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column(
            "requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_leave_school_code"), "leave", ["school_code"], unique=False)
    op.create_index("ix_leave_student_term", "leave", ["student_id", "term"], unique=False)
    op.create_table(
        "miss_prompt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("round_ids", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_miss_prompt_school_code"), "miss_prompt", ["school_code"], unique=False)
    op.create_index(op.f("ix_miss_prompt_student_id"), "miss_prompt", ["student_id"], unique=False)
    op.create_table(
        "round",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grades", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("scope_level", sa.String(length=10), nullable=False),
        sa.Column("scope_code", sa.String(length=10), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("school_code", sa.String(length=10), nullable=True),
        sa.Column("face_policy", sa.String(length=10), nullable=False),
        sa.Column("face_sample_rate", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closing_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_round_term"), "round", ["term"], unique=False)
    op.create_table(
        "selfie_seen",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("first_check_in_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "appeal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("prompt_id", sa.Uuid(), nullable=True),
        sa.Column("round_ids", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("appellant", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["miss_prompt.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_appeal_school_code"), "appeal", ["school_code"], unique=False)
    op.create_index(op.f("ix_appeal_student_id"), "appeal", ["student_id"], unique=False)
    op.create_table(
        "check_in",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("crs", sa.String(length=10), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("emulator", sa.Boolean(), nullable=False),
        sa.Column("mock_location", sa.Boolean(), nullable=False),
        sa.Column("rooted", sa.Boolean(), nullable=False),
        sa.Column("selfie_sha256", sa.String(length=64), nullable=False),
        sa.Column("face_required", sa.Boolean(), nullable=False),
        sa.Column("face_outcome", sa.String(length=20), nullable=True),
        sa.Column("face_distance", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=15), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("reasons", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_check_in_round_device_time", "check_in", ["round_id", "device_id", "received_at"], unique=False
    )
    op.create_index("ix_check_in_round_school", "check_in", ["round_id", "school_code"], unique=False)
    op.create_index("ix_check_in_student_time", "check_in", ["student_id", "received_at"], unique=False)
    op.create_table(
        "miss",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("round_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("excused", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
        ),
        sa.PrimaryKeyConstraint("round_id", "student_id"),
    )
    op.create_index(op.f("ix_miss_school_code"), "miss", ["school_code"], unique=False)
    op.create_index("ix_miss_student_term", "miss", ["student_id", "term"], unique=False)
    op.create_table(
        "round_attendance",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=10), nullable=False),
        sa.Column("current_check_in_id", sa.Uuid(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_check_in_id"],
            ["check_in.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
        ),
        sa.PrimaryKeyConstraint("round_id", "student_id"),
    )
    op.create_index(
        "ix_round_attendance_round_school", "round_attendance", ["round_id", "school_code"], unique=False
    )
    op.create_table(
        "selfie",
        sa.Column("check_in_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["check_in_id"], ["check_in.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_in_id"),
    )
    op.create_index(op.f("ix_selfie_expires_at"), "selfie", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("selfie")
    op.drop_table("round_attendance")
    op.drop_table("miss")
    op.drop_table("check_in")
    op.drop_table("appeal")
    op.drop_table("selfie_seen")
    op.drop_table("round")
    op.drop_table("miss_prompt")
    op.drop_table("leave")
    op.drop_table("internship")
    op.drop_table("device_key_view")
    op.drop_table("counselor_view")
