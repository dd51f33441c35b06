"""Excel imports (job + rows) and the keyed digest of each student's ID number.

Revision ID: 0003_imports
Revises: 0002_problems
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_imports"
down_revision = "0002_problems"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("student", sa.Column("id_digest", sa.String(64)))
    op.create_index("ix_student_id_digest", "student", ["id_digest"])
    op.create_table(
        "registration_import",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("class_id", sa.String(40), sa.ForeignKey("school_class.id"), nullable=False, index=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("retry_of", sa.String(40)),
        sa.Column("id_type", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer),
        sa.Column("processed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("registered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "registration_import_one_per_class",
        "registration_import",
        ["class_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'class'"),
    )
    op.create_index(
        "registration_import_same_file", "registration_import", ["class_id", "content_sha256"], unique=True
    )
    op.create_table(
        "registration_import_row",
        sa.Column("import_id", sa.String(40), sa.ForeignKey("registration_import.id"), primary_key=True),
        sa.Column("row_number", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("values", JSONB, nullable=False),
        sa.Column("problems", JSONB, nullable=False, server_default="[]"),
        sa.Column("student_id", sa.String(40)),
        sa.Column("note", sa.Text),
    )
    op.create_index(
        "registration_import_row_pending",
        "registration_import_row",
        ["import_id", "row_number"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("registration_import_row")
    op.drop_table("registration_import")
    op.drop_index("ix_student_id_digest", "student")
    op.drop_column("student", "id_digest")
