"""Tables of the transfer service: cases (this province's copy), their timelines, messages that
came too early, evidence files, look-ups, configured chains, the schools it may receive into,
overdue flags, export requests and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid6 import uuid7

from services.transfer.domain.review_levels import CaseLineage, OrgLineage, ReviewLevel
from services.transfer.domain.transfer_process import TERMINAL_STATES, CaseState, Progress
from shared.audit_log import AuditColumns
from shared.dual_post_exports import ExportRequestColumns
from shared.jurisdiction import OrgColumns


class Base(DeclarativeBase):
    """The transfer service's own tables; the outbox and inbox have theirs in shared.bus."""


# One open case per student in a province: a second application while one is under way is
# refused by the database, so two registrars applying at once cannot both succeed.
OPEN_CASE_INDEX = "transfer_case_one_open_per_student"
OPEN_CASE_WHERE = "state NOT IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(TERMINAL_STATES)))


class TransferCase(Base):
    """This province's copy of a case (domain/case_copy.py). A case between two provinces has a
    copy in each, with the same id, kept in step by ``transfer.case.step`` events."""

    __tablename__ = "transfer_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30))
    pending_level: Mapped[str | None] = mapped_column(String(30))
    # When the pending level (or the move) began: its 10 working days count from here.
    pending_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    chain: Mapped[list[str]] = mapped_column(JSONB)
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    student_number: Mapped[str] = mapped_column(String(40))
    student_name: Mapped[str] = mapped_column(String(100))
    student_id: Mapped[str | None] = mapped_column(String(40))
    origin_province: Mapped[str] = mapped_column(String(2))
    # A cross-province origin's place is known only once the origin has checked the student.
    origin_city: Mapped[str | None] = mapped_column(String(4))
    origin_county: Mapped[str | None] = mapped_column(String(6))
    origin_school: Mapped[str | None] = mapped_column(String(10))
    origin_school_name: Mapped[str | None] = mapped_column(String(200))
    dest_province: Mapped[str] = mapped_column(String(2))
    dest_city: Mapped[str] = mapped_column(String(4))
    dest_county: Mapped[str] = mapped_column(String(6))
    dest_school: Mapped[str] = mapped_column(String(10))
    dest_school_name: Mapped[str] = mapped_column(String(200))
    dest_class_id: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    origin_checked: Mapped[bool | None] = mapped_column(Boolean)
    dest_checked: Mapped[bool | None] = mapped_column(Boolean)
    check_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The facts each side's enrollment reported (eligibility.StudentFacts / TargetFacts).
    student_facts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    target_facts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    student_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # as the origin sent it: masked
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    records_arrived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(OPEN_CASE_INDEX, "student_number", unique=True, postgresql_where=text(OPEN_CASE_WHERE)),
        Index("transfer_case_created", "created_at"),
    )

    def lineage(self) -> CaseLineage:
        return CaseLineage(
            destination=OrgLineage(self.dest_province, self.dest_city, self.dest_county, self.dest_school),
            origin=OrgLineage(self.origin_province, self.origin_city, self.origin_county, self.origin_school),
        )

    def progress(self) -> Progress:
        pending = ReviewLevel(self.pending_level) if self.pending_level else None
        return Progress(CaseState(self.state), pending)


class TimelineEntry(Base):
    """One line of a case's timeline: who, in which role and organisation, did what, with which
    opinion and evidence, when. The same lines (by ``step_id``) in every province of the case;
    ``seq`` is only the order they reached this one."""

    __tablename__ = "transfer_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfer_case.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(120))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(30))
    state_after: Mapped[str] = mapped_column(String(30))
    pending_level_after: Mapped[str | None] = mapped_column(String(30))
    actor_username: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10))
    actor_province: Mapped[str] = mapped_column(String(2))
    opinion: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("transfer_id", "step_id", name="transfer_timeline_step"),
        UniqueConstraint("transfer_id", "seq", name="transfer_timeline_seq"),
    )


class ParkedMessage(Base):
    """A partner's line this copy could not take yet (domain NotYet): offered again after the
    case's next change, so a message that overtook another is neither lost nor retried blindly."""

    __tablename__ = "transfer_parked_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(36), index=True)
    message_kind: Mapped[str] = mapped_column(String(20))  # step | cancel_request
    line: Mapped[dict[str, Any]] = mapped_column(JSONB)
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Evidence(Base):
    """A file a registrar or reviewer attached (the student's handwritten request, a letter)."""

    __tablename__ = "transfer_evidence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploader_org: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StudentLookup(Base):
    """A destination school's look-up of a student in another province, and its answer."""

    __tablename__ = "transfer_lookup"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    asked_by: Mapped[str] = mapped_column(String(100))
    asker_org: Mapped[str] = mapped_column(String(10))
    origin_province: Mapped[str] = mapped_column(String(2))
    student_number: Mapped[str] = mapped_column(String(40))
    student_name: Mapped[str] = mapped_column(String(100))
    found: Mapped[bool | None] = mapped_column(Boolean)
    student_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChainConfig(Base):
    """The province's configured chain for its part of a kind of transfer (业务流程配置)."""

    __tablename__ = "transfer_chain_config"

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    levels: Mapped[list[str]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SchoolView(Base):
    """The schools of this province as enrollment registered them: a destination's lineage and name."""

    __tablename__ = "school_view"

    school_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(4))
    county: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OverdueFlag(Base):
    """A review step found past its due date, flagged once to the office above the late one
    (overdue.py)."""

    __tablename__ = "transfer_overdue"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfer_case.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(30), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    superior_level: Mapped[str] = mapped_column(String(20))
    superior_org: Mapped[str | None] = mapped_column(String(10))  # None: the ministry

    # A bureau's overdue list is "flags where I am the superior".
    __table_args__ = (Index("transfer_overdue_superior", "superior_level", "superior_org"),)


class AuditEntry(AuditColumns, Base):
    """One entry of the append-only audit log (shared/audit_log.py): who asked for, approved
    and downloaded which cases, who opened which evidence file; a trigger refuses UPDATE,
    DELETE and TRUNCATE (revision 0004)."""

    __tablename__ = "transfer_audit"


class TransferExportRequest(ExportRequestColumns, Base):
    """A 跨省转学查询 list asked for by one user, approved by a second of the same office before
    the requester downloads it once (api/exports.py, revision 0005). ``filters`` is
    ``CaseFilter.stored()``."""

    __tablename__ = "transfer_export_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: str(uuid7()))


# Either side's school, county, city or province sees a case (shared.jurisdiction.any_jurisdiction).
DESTINATION_COLUMNS = OrgColumns(
    province=TransferCase.dest_province,
    city=TransferCase.dest_city,
    county=TransferCase.dest_county,
    school=TransferCase.dest_school,
)
# A cross-province origin's city, county and school are NULL until its check: they match nobody.
ORIGIN_COLUMNS = OrgColumns(
    province=TransferCase.origin_province,
    city=TransferCase.origin_city,
    county=TransferCase.origin_county,
    school=TransferCase.origin_school,
)
