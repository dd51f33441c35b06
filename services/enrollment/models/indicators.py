"""Counts uploaded from the national student system (全国学生系统), for FM5, and the yearly
in-school snapshots FM8 compares."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base


class NationalCount(Base):
    """The latest count per school the province uploaded (one row per school, replaced)."""

    __tablename__ = "national_count"

    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InSchoolSnapshot(Base):
    """A school's in-school count (在校生) as it stood when the year's snapshot was taken (FM8:
    "在校生连续两年不能达到240人" compares the last two). Written once per school and year."""

    __tablename__ = "in_school_snapshot"

    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    taken_on: Mapped[date] = mapped_column(Date)
