"""Leave decisions and 销假 by whom, internship position, suspension proposals once per term,
export requests under dual post and the append-only, hash-chained audit log of exports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# What an entry's hash covers: the previous hash and every column the application writes.
AUDIT_HASH = (
    "encode(sha256(convert_to(concat_ws('|', e.prev_hash, e.id, extract(epoch FROM e.at), e.action, "
    "e.actor_id, e.actor_name, e.actor_role, e.actor_org, e.subject, e.detail::text), 'UTF8')), 'hex')"
)


def _tz(name: str, *, required: bool = False, now: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=not required,
        server_default=sa.text("now()") if now else None,
    )


def upgrade() -> None:
    op.add_column("leave", _tz("decided_at"))
    op.add_column("leave", sa.Column("ended_by", sa.String(40)))
    op.add_column("internship", sa.Column("position", sa.String(100)))
    # Overlap checks and the per-term count read a student's leave by dates.
    op.create_index("ix_leave_student_starts", "leave", ["student_id", "starts_on"])
    op.create_index("ix_internship_student_period", "internship", ["student_id", "starts_on", "ends_on"])
    op.create_table(
        "suspension_proposal",
        sa.Column("student_id", sa.String(40), primary_key=True),
        sa.Column("term", sa.String(20), primary_key=True),
        sa.Column("school_code", sa.String(10), nullable=False),
        sa.Column("leave_days", sa.Integer(), nullable=False),
        _tz("proposed_at", required=True, now=True),
    )
    op.create_table(
        "export_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("filters", JSONB(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("count_at_request", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(40), nullable=False),
        sa.Column("requester_name", sa.String(100), nullable=False),
        sa.Column("requester_role", sa.String(30), nullable=False),
        sa.Column("org", sa.String(10), nullable=False, index=True),
        sa.Column("province", sa.String(2), nullable=False),
        _tz("requested_at", required=True, now=True),
        sa.Column("approved_by", sa.String(40)),
        _tz("approved_at"),
        _tz("downloaded_at"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _tz("at", required=True, now=True),
        sa.Column("action", sa.String(40), nullable=False, index=True),
        sa.Column("actor_id", sa.String(40), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("actor_org", sa.String(10), nullable=False, index=True),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("detail", JSONB(), server_default="{}", nullable=False),
        sa.Column("prev_hash", sa.String(64), server_default="", nullable=False),
        sa.Column("entry_hash", sa.String(64), server_default="", nullable=False),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    # Append-only: the application's connection cannot rewrite who exported what.
    op.execute(
        """
        CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$;
        CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only();
        """
    )
    # Tamper-evident (DESIGN.md): each entry hashes its content with the previous entry's hash;
    # the advisory lock orders concurrent writers until their commit.
    op.execute(
        f"""
        CREATE FUNCTION audit_entry_content_hash(e audit_entry) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT {AUDIT_HASH}
        $$;
        CREATE FUNCTION audit_entry_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE previous text;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('xueji.checkin.audit_entry'));
            SELECT entry_hash INTO previous FROM audit_entry ORDER BY id DESC LIMIT 1;
            NEW.prev_hash := coalesce(previous, '');
            NEW.entry_hash := audit_entry_content_hash(NEW);
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_entry_chain BEFORE INSERT ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION audit_entry_chain();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_entry_chain ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_chain()")
    op.execute("DROP FUNCTION audit_entry_content_hash(audit_entry)")
    op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_is_append_only()")
    op.drop_table("audit_entry")
    op.drop_table("export_request")
    op.drop_table("suspension_proposal")
    op.drop_index("ix_internship_student_period", "internship")
    op.drop_index("ix_leave_student_starts", "leave")
    op.drop_column("internship", "position")
    op.drop_column("leave", "ended_by")
    op.drop_column("leave", "decided_at")
