"""Problem records (问题学籍): a duplicate ID number or a failed identity check, to be resolved by
the schools concerned (DOMAIN.md "Problem records")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class ProblemRecord(Base):
    __tablename__ = "problem_record"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # duplicate_id | identity_check_failed
    status: Mapped[str] = mapped_column(String(30))  # open … resolved (domain/problem_record_state.py)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    # Lineage of the student's school: whose jurisdiction the record is in.
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    # The other side of a duplicate: a student here, or a record in a partner province (known
    # to us only by province and keyed hash of the ID number, never the number itself).
    counterpart_student_id: Mapped[str | None] = mapped_column(String(40))
    counterpart_province: Mapped[str | None] = mapped_column(String(2))
    counterpart_ref: Mapped[str | None] = mapped_column(String(100))
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    # DOMAIN.md: the later-registered (or later-changed) side acts first.
    acting_side: Mapped[str] = mapped_column(String(20))  # here | counterpart (widened by 0005)
    detail: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    due_on: Mapped[date | None] = mapped_column(Date)  # 10 working days (duplicate resolution)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(40))
    # Set when both sides gave evidence: the bureau that must arbitrate (domain/problem_arbiter.py).
    arbiter_level: Mapped[str | None] = mapped_column(String(10))
    arbiter_org: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One open case per kind and student pair: a redelivered event opens nothing twice.
        Index(
            "problem_record_one_open",
            "kind",
            "student_id",
            "counterpart_student_id",
            "counterpart_province",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
            postgresql_nulls_not_distinct=True,
        ),
    )


PROBLEM_RECORD_COLUMNS = OrgColumns(
    province=ProblemRecord.province_code,
    city=ProblemRecord.city_code,
    county=ProblemRecord.county_code,
    school=ProblemRecord.school_code,
)


class ProblemRecordStep(Base):
    """One move on a problem record: who did what, with which evidence (the case's timeline)."""

    __tablename__ = "problem_record_step"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    problem_record_id: Mapped[str] = mapped_column(ForeignKey("problem_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    province: Mapped[str] = mapped_column(String(2))  # where the move was made
    actor: Mapped[str] = mapped_column(String(100))  # account id, or "partner:<province>"
    move: Mapped[str] = mapped_column(String(40))  # change | evidence | delete | arbitrate | …
    side: Mapped[str | None] = mapped_column(String(10))  # first | second (absolute)
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    evidence_id: Mapped[str | None] = mapped_column(ForeignKey("problem_evidence.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class ProblemEvidence(Base):
    """An uploaded evidence file (证明材料). Kept in the database beside the case it supports:
    a few hundred KB per case, and it must survive exactly as long as the record does."""

    __tablename__ = "problem_evidence"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    problem_record_id: Mapped[str] = mapped_column(ForeignKey("problem_record.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
