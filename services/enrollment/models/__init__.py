"""Enrollment's tables: the organisation tree and the student records (学籍)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.jurisdiction import OrgColumns

# Constraint names the API turns into "already registered" (409) when a concurrent insert wins.
STUDENT_NUMBER_UNIQUE = "student_number_unique"
STUDENT_ID_NUMBER_ACTIVE = "student_id_number_active"


class Base(DeclarativeBase):
    """Enrollment's tables (outbox and inbox come from shared/bus/tables.py)."""


class Region(Base):
    """A GB/T 2260 division: province (2 digits), city (4) or county (6)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))


class School(Base):
    __tablename__ = "school"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # 学校标识码
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    # Added by 0004_workflow: the education stage the approval chains are configured by, and the
    # supervising bureau (主管部门) when it is not the county the school sits in.
    stage: Mapped[str] = mapped_column(String(40), server_default="secondary_vocational")
    supervisor_code: Mapped[str | None] = mapped_column(String(6))


class Campus(Base):
    """A campus and its registered boundary, which check-ins are fenced by."""

    __tablename__ = "campus"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    crs: Mapped[str] = mapped_column(String(10))  # the datum the boundary is given in
    boundary: Mapped[dict[str, Any]] = mapped_column(JSONB)  # GeoJSON Polygon or MultiPolygon


class Major(Base):
    """An entry of the official 中职专业目录 catalogue."""

    __tablename__ = "major"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class SchoolMajor(Base):
    """An enrolment qualification (招生资质): the school filed this major for this intake year."""

    __tablename__ = "school_major"

    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), primary_key=True)
    major_code: Mapped[str] = mapped_column(ForeignKey("major.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)


class SchoolClass(Base):
    __tablename__ = "school_class"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(Integer)  # entry year
    major_code: Mapped[str] = mapped_column(ForeignKey("major.code"))


class Student(Base):
    """One student's record (学籍) in this province."""

    __tablename__ = "student"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # UUIDv7; kept across provinces
    student_number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_type: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), index=True)
    class_id: Mapped[str | None] = mapped_column(ForeignKey("school_class.id"), index=True)
    # No foreign key: a transferred-in student keeps a major our catalogue may not list yet.
    major_code: Mapped[str | None] = mapped_column(String(20))
    grade: Mapped[int] = mapped_column(Integer)  # entry year
    study_length: Mapped[float] = mapped_column(Numeric(3, 1, asdecimal=False))
    study_form: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    counselor_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # now() is the transaction's start time: created_at equals the created_at of the outbox rows
    # written with the record, which the tests use to show they were written together.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    frozen: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # 国籍 (key data: ISO 3166-1 alpha-3, "CHN" for a resident ID) and 民族 (non-key: GB/T 3304
    # two-digit code), DOMAIN.md "Student record". Added by 0006_enrollment_gaps.
    nationality: Mapped[str | None] = mapped_column(String(3))
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    # HMAC of the ID number under the key partner provinces share (dedupe.py): what the
    # cross-province duplicate check compares, never the number itself.
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (
        UniqueConstraint("student_number", name=STUDENT_NUMBER_UNIQUE),
        # A resident ID studies in one place only: a duplicate blocks registration (查重). A record
        # that moved to another province no longer counts.
        Index(
            STUDENT_ID_NUMBER_ACTIVE,
            "id_number",
            unique=True,
            postgresql_where=text("status <> 'transferred_out'"),
        ),
    )


STUDENT_ORG = OrgColumns(
    province=Student.province_code,
    city=Student.city_code,
    county=Student.county_code,
    school=Student.school_code,
    counselor=Student.counselor_id,
    student=Student.id,
)


class StudentHistory(Base):
    """One line of a record's history; the lines travel with the student across provinces."""

    __tablename__ = "student_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    province: Mapped[str] = mapped_column(String(2))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
