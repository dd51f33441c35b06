"""Evidence files for reviews and changes, and filings (备案) of an intake."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Integer, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class EvidenceFile(Base):
    """An uploaded evidence file (佐证材料). Kept in PostgreSQL rather than under var/: it is
    backed up, replicated and rolled back with the records it proves, and files are small
    (capped at 5 MB). The SHA-256 lets a reviewer tell a re-upload from a new document."""

    __tablename__ = "evidence_file"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


EVIDENCE_ORG = OrgColumns(
    province=EvidenceFile.province_code,
    city=EvidenceFile.city_code,
    county=EvidenceFile.county_code,
    school=EvidenceFile.school_code,
)


class Filing(Base):
    """One filing (备案) of a school's intake with the province: who was filed, who refused."""

    __tablename__ = "filing"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    intake_year: Mapped[int] = mapped_column(Integer)
    season: Mapped[str] = mapped_column(String(10))
    filed_count: Mapped[int] = mapped_column(Integer)
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


FILING_ORG = OrgColumns(
    province=Filing.province_code,
    city=Filing.city_code,
    county=Filing.county_code,
    school=Filing.school_code,
)


class StudentFiling(Base):
    """A student filed with the province (备案): one row per student, the filing it came in."""

    __tablename__ = "student_filing"

    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), primary_key=True)
    filing_id: Mapped[str] = mapped_column(ForeignKey("filing.id"), index=True)


class StudentGuardian(Base):
    """The guardian whose resident ID stands for a student without one (DOMAIN.md: 至少1名)."""

    __tablename__ = "student_guardian"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(String(18))
