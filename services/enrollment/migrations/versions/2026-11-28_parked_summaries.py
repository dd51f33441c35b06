"""Verification summaries parked until the released record they travel beside is admitted.

Revision ID: 0008_parked_summaries
Revises: 0007_registration_windows
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_parked_summaries"
down_revision = "0007_registration_windows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_verification_summary",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # No foreign key: the summary is parked because the student's record is not here yet.
        sa.Column("student_id", sa.String(40), nullable=False, index=True),
        sa.Column("transfer_id", sa.Text, nullable=False),
        sa.Column("from_province", sa.String(2), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("student_id", "detail", name="parked_verification_summary_line"),
    )


def downgrade() -> None:
    op.drop_table("parked_verification_summary")
