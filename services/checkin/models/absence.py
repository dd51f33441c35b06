"""Why a student may be away: approved leave (exempt from rounds) and filed internships
(an outside check-in is 正在实习)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Date, DateTime, Float, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class Leave(Base):
    __tablename__ = "leave"
    __table_args__ = (Index("ix_leave_student_term", "student_id", "term"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    student_id: Mapped[str] = mapped_column(String(40))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    term: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # requested | approved | rejected | ended
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opinion: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[date | None] = mapped_column(Date)  # 销假: the last day actually away
    ended_by: Mapped[str | None] = mapped_column(String(40))
    end_reason: Mapped[str | None] = mapped_column(Text)  # set when a transfer ended it: 转学
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Internship(Base):
    __tablename__ = "internship"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    company: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    position: Mapped[str | None] = mapped_column(String(100))  # 岗位, when the school knows it
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    filed_by: Mapped[str] = mapped_column(String(40))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
