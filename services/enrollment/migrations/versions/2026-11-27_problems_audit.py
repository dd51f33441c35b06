"""Problem-record handling (steps, evidence, arbiter), the hash-chained audit log, dual-post
export requests, national counts (FM5), and an index for looking students up by ID number.

Revision ID: 0005_problems_audit
Revises: 0002_problems
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_problems_audit"
down_revision = "0002_problems"
branch_labels = None
depends_on = None

# The log is append-only in the database itself, not only in the code: an UPDATE or DELETE
# fails whoever sends it. (Someone with rights to disable the trigger can still edit a row;
# the hash chain is what shows that.)
_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    # 0002 made it varchar(10), one short of "counterpart".
    op.alter_column("problem_record", "acting_side", type_=sa.String(20))
    op.add_column("problem_record", sa.Column("arbiter_level", sa.String(10)))
    op.add_column("problem_record", sa.Column("arbiter_org", sa.String(10)))
    op.add_column("problem_record", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.create_index("problem_record_counterpart", "problem_record", ["counterpart_province", "id_digest"])
    op.create_table(
        "problem_evidence",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "problem_record_id", sa.String(40), sa.ForeignKey("problem_record.id"), nullable=False, index=True
        ),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "problem_record_step",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "problem_record_id", sa.String(40), sa.ForeignKey("problem_record.id"), nullable=False, index=True
        ),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("move", sa.String(40), nullable=False),
        sa.Column("side", sa.String(10)),
        sa.Column("from_state", sa.String(30), nullable=False),
        sa.Column("to_state", sa.String(30), nullable=False),
        sa.Column("evidence_id", sa.String(40), sa.ForeignKey("problem_evidence.id")),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("actor_org", sa.String(10), nullable=False),
        sa.Column("action", sa.String(60), nullable=False, index=True),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False, index=True),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("city_code", sa.String(4)),
        sa.Column("county_code", sa.String(6)),
        sa.Column("school_code", sa.String(10)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute(_APPEND_ONLY)
    op.create_table(
        "export_request",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("requested_by", sa.String(100), nullable=False, index=True),
        sa.Column("requester_name", sa.String(100), nullable=False),
        sa.Column("requester_role", sa.String(30), nullable=False),
        sa.Column("org", sa.String(10), nullable=False, index=True),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("filters", JSONB, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("count_at_request", sa.Integer, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("downloaded_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "national_count",
        sa.Column("school_code", sa.String(10), sa.ForeignKey("school.code"), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    # Search by full ID number (queries) must not scan: the partial unique index skips
    # transferred-out records, which a search still finds.
    op.create_index("student_id_number_lookup", "student", ["id_number"])


def downgrade() -> None:
    op.drop_index("student_id_number_lookup", "student")
    op.drop_table("national_count")
    op.drop_table("export_request")
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("problem_record_step")
    op.drop_table("problem_evidence")
    op.drop_index("problem_record_counterpart", "problem_record")
    op.drop_column("problem_record", "updated_at")
    op.drop_column("problem_record", "arbiter_org")
    op.drop_column("problem_record", "arbiter_level")
    op.alter_column("problem_record", "acting_side", type_=sa.String(10))
