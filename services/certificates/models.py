"""Tables of the certificates service.

Read models kept from enrollment's events (students, qualifications, filings, open problem
records) decide who may graduate; graduation lists and their reviews record who did; certificates
hold what was printed, forever; print batches, verification codes, 学历证明书 requests and the
audit log serve the people around them (issue 8, ADR 0012).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid6 import uuid7

from shared.audit_log import AuditColumns
from shared.jurisdiction import OrgColumns
from shared.readmodels import StudentViewMixin


def new_id() -> str:
    return str(uuid7())


class Base(DeclarativeBase):
    """The certificates service's own tables; the outbox and inbox have theirs in shared.bus."""


# --- read models of enrollment's facts ---------------------------------------------------------


class StudentView(StudentViewMixin, Base):
    """A student as enrollment last described them: the input of pre-graduation checks."""


class QualificationView(Base):
    """An enrolment qualification (招生资质) filed with the province: school + major + year
    (seed 004 art. 7: without one, no filing and no certificate)."""

    __tablename__ = "qualification_view"

    school_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    major_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)


class FiledStudent(Base):
    """A student whose record was filed (备案) with the province."""

    __tablename__ = "filed_student"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    filing_id: Mapped[str] = mapped_column(String(40))
    intake_year: Mapped[int] = mapped_column(Integer)


class OpenProblemRecord(Base):
    """A problem record (问题学籍) of a student not yet resolved; removed when it is."""

    __tablename__ = "open_problem_record"

    problem_record_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))


# --- graduation -------------------------------------------------------------------------------


class GraduationChainConfig(Base):
    """The province's configured review chain for graduation lists (业务流程配置)."""

    __tablename__ = "graduation_chain_config"

    business: Mapped[str] = mapped_column(String(30), primary_key=True, default="graduation")
    levels: Mapped[list[str]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GraduationList(Base):
    """A school's graduation list for one year, submitted, reviewed level by level, then issued."""

    __tablename__ = "graduation_list"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    province: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(4))
    county: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    school_name: Mapped[str] = mapped_column(String(200))
    graduating_year: Mapped[int] = mapped_column(Integer)
    # domain/graduation_review.py: under_review → approved → issued; returned ends a list.
    state: Mapped[str] = mapped_column(String(20))
    levels: Mapped[list[str]] = mapped_column(JSONB)  # the chain as it stood at submission
    level_index: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str | None] = mapped_column(String(100))


GRADUATION_LIST_COLUMNS = OrgColumns(
    province=GraduationList.province,
    city=GraduationList.city,
    county=GraduationList.county,
    school=GraduationList.school_code,
)


class GraduationEntry(Base):
    """One student on a graduation list, with the outcome (毕业 / 结业 / 肄业) the school gave."""

    __tablename__ = "graduation_entry"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    list_id: Mapped[str] = mapped_column(ForeignKey("graduation_list.id"), index=True)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(30))  # graduated | completed | left_without_completing
    # listed → issued → rolled_back; dropped when the list is returned.
    state: Mapped[str] = mapped_column(String(20))
    certificate_id: Mapped[str | None] = mapped_column(String(40))
    graduated_on: Mapped[date | None] = mapped_column(Date)
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rolled_back_by: Mapped[str | None] = mapped_column(String(100))
    rollback_reason: Mapped[str | None] = mapped_column(Text)

    # A student is on at most one live list (listed or issued): two schools' lists, or a list
    # submitted twice, cannot both graduate the same record.
    __table_args__ = (
        Index(
            "graduation_entry_one_live_per_student",
            "student_id",
            unique=True,
            postgresql_where=text("state IN ('listed', 'issued')"),
        ),
    )


class GraduationReview(Base):
    """One decision on a graduation list: who, at which level, approve or return, and why."""

    __tablename__ = "graduation_review"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    list_id: Mapped[str] = mapped_column(ForeignKey("graduation_list.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(20))  # approve | return
    opinion: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- certificates -----------------------------------------------------------------------------


class Certificate(Base):
    """An issued 毕业证书 or 学历证明书: what was printed, kept for decades. ``face`` holds every
    printed field (printing/face.py ``CertificateFace``), the full ID number included: it is the
    certificate's own text; every answer masks it."""

    __tablename__ = "certificate"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # graduation | education_certificate
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(40))
    replaces_id: Mapped[str | None] = mapped_column(String(40))  # a 学历证明书: the lost original
    province: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(4))
    county: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    graduating_year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(30))
    face: Mapped[dict[str, Any]] = mapped_column(JSONB)
    qr_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # valid | voided | lost
    issued_on: Mapped[date] = mapped_column(Date)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[str | None] = mapped_column(String(100))
    void_reason: Mapped[str | None] = mapped_column(Text)
    lost_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Verifying a lost certificate names its 学历证明书: without this, a scan of millions of rows.
    __table_args__ = (
        Index(
            "certificate_replaces_id",
            "replaces_id",
            postgresql_where=text("replaces_id IS NOT NULL"),
        ),
    )


CERTIFICATE_COLUMNS = OrgColumns(
    province=Certificate.province,
    city=Certificate.city,
    county=Certificate.county,
    school=Certificate.school_code,
    student=Certificate.student_id,
)


class ElectronicCertificate(Base):
    """The signed PDF (电子证照, PAdES) of a certificate, with the digital photo."""

    __tablename__ = "electronic_certificate"

    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificate.id"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CertificateNumberCounter(Base):
    """How many serials of a series a school has used in a year; only ever grows, so a number
    is never handed out twice, voided or not (numbers.py)."""

    __tablename__ = "certificate_number_counter"

    series: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    next_counter: Mapped[int] = mapped_column(BigInteger)


class PrintSettings(Base):
    """The province's print settings: where the pre-printed security paper puts the fields, and
    whether the ID photo is printed or an empty frame left for the pasted graduation photo."""

    __tablename__ = "print_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    offset_x_mm: Mapped[float] = mapped_column(Float, default=0.0)
    offset_y_mm: Mapped[float] = mapped_column(Float, default=0.0)
    photo_mode: Mapped[str] = mapped_column(String(20), default="id_photo")  # id_photo | empty_frame
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PrintBatch(Base):
    """A batch of certificates to print for a school or a bureau, run in the background."""

    __tablename__ = "print_batch"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    province: Mapped[str] = mapped_column(String(2))
    scope_org: Mapped[str] = mapped_column(String(10))  # a school code or a region code
    graduating_year: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20))  # draft | issue | reprint
    reason: Mapped[str | None] = mapped_column(Text)  # a reprint's reason
    state: Mapped[str] = mapped_column(String(20))  # queued | running | done | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    layout: Mapped[dict[str, Any]] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PrintBatchItem(Base):
    """One certificate of a batch; ``rendered_at`` is set when its file is written, so a batch
    resumes after a restart where it stopped."""

    __tablename__ = "print_batch_item"

    batch_id: Mapped[str] = mapped_column(ForeignKey("print_batch.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[str] = mapped_column(String(40))
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VerificationCode(Base):
    """A code a graduate made for an employer: it verifies one certificate until it expires."""

    __tablename__ = "verification_code"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificate.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EducationCertificateRequest(Base):
    """A graduate's application for a 学历证明书 after losing the certificate (seed 004 art. 19)."""

    __tablename__ = "education_certificate_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificate.id"), index=True)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    province: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(4))
    county: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))  # requested | issued | rejected
    statement: Mapped[str] = mapped_column(Text)  # the applicant's account of the loss
    applied_by: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    opinion: Mapped[str | None] = mapped_column(Text)
    issued_certificate_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # One open application per certificate.
    __table_args__ = (
        Index(
            "education_certificate_request_one_open",
            "certificate_id",
            unique=True,
            postgresql_where=text("state = 'requested'"),
        ),
    )


EDUCATION_REQUEST_COLUMNS = OrgColumns(
    province=EducationCertificateRequest.province,
    city=EducationCertificateRequest.city,
    county=EducationCertificateRequest.county,
    school=EducationCertificateRequest.school_code,
    student=EducationCertificateRequest.student_id,
)


class AuditEntry(AuditColumns, Base):
    """One entry of the append-only audit log (shared/audit_log.py): reads of personal data,
    exports, reprints, voids; a trigger refuses UPDATE, DELETE and TRUNCATE (revision 0002)."""

    __tablename__ = "certificate_audit"
