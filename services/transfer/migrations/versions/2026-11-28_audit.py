"""The audit log of exports (services/transfer/audit.py): append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("actor_org", sa.String(10), nullable=False),
        sa.Column("actor_province", sa.String(2), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
    )
    # The service's own connection cannot rewrite or remove who exported what.
    op.execute(
        """
        CREATE FUNCTION transfer_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'transfer_audit keeps every entry: % refused', TG_OP; END $$;
        CREATE TRIGGER transfer_audit_no_change BEFORE UPDATE OR DELETE ON transfer_audit
            FOR EACH ROW EXECUTE FUNCTION transfer_audit_refuse_change();
        CREATE TRIGGER transfer_audit_no_truncate BEFORE TRUNCATE ON transfer_audit
            FOR EACH STATEMENT EXECUTE FUNCTION transfer_audit_refuse_change();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE transfer_audit")
    op.execute("DROP FUNCTION transfer_audit_refuse_change()")
