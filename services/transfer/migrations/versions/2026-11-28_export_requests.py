"""Export requests under dual post (双岗, services/transfer/api/exports.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_export_request",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("requested_by", sa.String(100), nullable=False, index=True),
        sa.Column("requester_name", sa.String(100), nullable=False),
        sa.Column("requester_role", sa.String(30), nullable=False),
        sa.Column("org", sa.String(10), nullable=False, index=True),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("filters", JSONB, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("count_at_request", sa.Integer, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("downloaded_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("transfer_export_request")
