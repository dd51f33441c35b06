"""Outbox, inbox, the organisation tree and student records.

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
        "region",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(6), sa.ForeignKey("region.code")),
    )
    op.create_table(
        "school",
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), sa.ForeignKey("region.code"), nullable=False, index=True),
    )
    op.create_table(
        "campus",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("crs", sa.String(10), nullable=False),
        sa.Column("boundary", JSONB, nullable=False),
    )
    op.create_table(
        "major",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    op.create_table(
        "school_major",
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), primary_key=True),
        sa.Column("major_code", sa.String(20), sa.ForeignKey("major.code"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
    )
    op.create_table(
        "school_class",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("major_code", sa.String(20), sa.ForeignKey("major.code"), nullable=False),
    )
    op.create_table(
        "student",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("student_number", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(1)),
        sa.Column("birth_date", sa.Date),
        sa.Column("id_type", sa.String(20), nullable=False),
        sa.Column("id_number", sa.String(40)),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False, index=True),
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), nullable=False, index=True),
        sa.Column("class_id", sa.String(40), sa.ForeignKey("school_class.id"), index=True),
        sa.Column("major_code", sa.String(20)),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("study_length", sa.Numeric(3, 1), nullable=False),
        sa.Column("study_form", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("counselor_id", sa.String(40), index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("frozen", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.UniqueConstraint("student_number", name="student_number_unique"),
    )
    op.create_index(
        "student_id_number_active",
        "student",
        ["id_number"],
        unique=True,
        postgresql_where=sa.text("status <> 'transferred_out'"),
    )
    op.create_table(
        "student_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("student_id", sa.String(40), sa.ForeignKey("student.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in (
        "student_history",
        "student",
        "school_class",
        "school_major",
        "major",
        "campus",
        "school",
        "region",
    ):
        op.drop_table(table)
    drop_messaging_tables(op)
