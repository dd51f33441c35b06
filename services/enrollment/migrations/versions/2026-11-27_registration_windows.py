"""Supplementary registration windows (补注册) the province grants after an intake's deadline.

Also joins the three branches built side by side (imports, problems + audit, workflow + gaps)
into one head: the table needs only the organisation tree, which all of them share.

Revision ID: 0007_registration_windows
Revises: 0003_imports, 0005_problems_audit, 0006_enrollment_gaps
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_registration_windows"
down_revision = ("0003_imports", "0005_problems_audit", "0006_enrollment_gaps")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supplementary_registration_window",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("intake_year", sa.Integer, nullable=False),
        sa.Column("season", sa.String(10), nullable=False),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4)),
        sa.Column("county_code", sa.String(6)),
        sa.Column("school_code", sa.String(10)),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_by_name", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("closed_by_name", sa.String(100)),
        sa.Column("close_reason", sa.Text),
        sa.CheckConstraint("season IN ('autumn', 'spring')", name="supplementary_window_season"),
        sa.CheckConstraint("starts_on <= ends_on", name="supplementary_window_dates"),
    )
    op.create_index(
        "supplementary_window_intake",
        "supplementary_registration_window",
        ["intake_year", "season"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("supplementary_window_intake", table_name="supplementary_registration_window")
    op.drop_table("supplementary_registration_window")
