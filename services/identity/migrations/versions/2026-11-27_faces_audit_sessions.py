"""Issue 4: counselors, activation fields, face consent/templates/ID photos, audit log, refresh tokens.

Revision ID: 0002_faces
Create Date: 2026-11-27
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# The content an audit entry's hash covers: every column but the hash itself, the time as epoch
# seconds (text of a timestamptz would depend on the session's time zone).
AUDIT_HASH = (
    "encode(sha256(convert_to(concat_ws('|', e.prev_hash, e.id, extract(epoch FROM e.at), e.kind, "
    "e.outcome, coalesce(e.account_id, ''), coalesce(e.actor_id, ''), coalesce(e.client_address, ''), "
    "e.detail::text), 'UTF8')), 'hex')"
)

revision = "0002_faces"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tz(name: str, *, required: bool = False, now: bool = False, index: bool = False) -> sa.Column[Any]:
    default = sa.func.now() if now else None
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=default, nullable=not required, index=index
    )


def upgrade() -> None:
    op.add_column("account", sa.Column("counselor_id", sa.String(36), index=True))
    op.add_column(
        "account", sa.Column("must_change_password", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column("account", sa.Column("phone", sa.String(20), unique=True))
    op.add_column("account", sa.Column("class_id", sa.String(40), index=True))
    op.add_column("account", sa.Column("id_number_masked", sa.String(40)))
    op.add_column("account", sa.Column("id_number_digest", sa.String(64)))
    op.create_table(
        "face_consent",
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("decision", sa.String(10), nullable=False),
        _tz("decided_at", required=True, now=True),
        sa.Column("consent_text_version", sa.String(20), nullable=False),
        sa.Column("verified_in_person_by", sa.String(36)),
        _tz("verified_in_person_at"),
        sa.CheckConstraint("decision IN ('granted', 'declined')", name="face_consent_decision"),
    )
    op.create_table(
        "face_template",
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("student_id", sa.String(40), nullable=False, unique=True),
        sa.Column("school_code", sa.String(10), nullable=False, index=True),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("photo_version", sa.Integer(), nullable=False),
        sa.Column("possible_proxy_of", sa.String(40)),
        _tz("captured_at", required=True, now=True),
        sa.Column("delete_on", sa.Date(), index=True),
    )
    op.create_table(
        "id_photo",
        sa.Column("student_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        _tz("created_at", required=True, now=True),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _tz("at", required=True, now=True, index=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(36), index=True),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("client_address", sa.String(64)),
        sa.Column("detail", JSONB(), server_default="{}", nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    )
    # Append-only: history cannot be rewritten from the application's connection.
    op.execute(
        """
        CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$;
        CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only();
        """
    )
    # Tamper-evident (DESIGN.md): each entry hashes its content with the previous entry's hash,
    # so an entry changed or removed behind the trigger's back (by a superuser) breaks the
    # chain. The advisory lock orders concurrent writers; it is held until their commit.
    op.execute(
        f"""
        CREATE FUNCTION audit_entry_content_hash(e audit_entry) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT {AUDIT_HASH}
        $$;
        CREATE FUNCTION audit_entry_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE previous text;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('xueji.audit_entry'));
            SELECT entry_hash INTO previous FROM audit_entry ORDER BY id DESC LIMIT 1;
            NEW.prev_hash := coalesce(previous, '');
            NEW.entry_hash := audit_entry_content_hash(NEW);
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_entry_chain BEFORE INSERT ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION audit_entry_chain();
        """
    )
    op.create_table(
        "device_key",
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        _tz("registered_at", required=True, now=True),
        sa.Column("replaced_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id"), nullable=False, index=True),
        _tz("issued_at", required=True, now=True),
        _tz("expires_at", required=True),
        _tz("rotated_at"),
        _tz("revoked_at"),
        sa.Column("client_address", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("refresh_token")
    op.drop_table("device_key")
    op.execute("DROP TRIGGER audit_entry_chain ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_chain()")
    op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_is_append_only()")
    op.drop_table("audit_entry")
    op.execute("DROP FUNCTION IF EXISTS audit_entry_content_hash(audit_entry)")
    op.drop_table("id_photo")
    op.drop_table("face_template")
    op.drop_table("face_consent")
    for column in ("id_number_digest", "id_number_masked", "class_id", "phone", "must_change_password"):
        op.drop_column("account", column)
    op.drop_column("account", "counselor_id")
