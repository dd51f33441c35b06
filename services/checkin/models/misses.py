"""Missed rounds, the prompts they raise, and appeals against them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class Miss(Base):
    """An eligible student had no valid check-in when the round closed."""

    __tablename__ = "miss"
    __table_args__ = (Index("ix_miss_student_term", "student_id", "term"),)

    round_id: Mapped[UUID] = mapped_column(ForeignKey("round.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    term: Mapped[str] = mapped_column(String(20))
    round_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    excused: Mapped[bool] = mapped_column(Boolean, default=False)  # an accepted appeal


class MissPrompt(Base):
    """Sent to the school registrar (via enrollment's pending actions) when a miss rule fires."""

    __tablename__ = "miss_prompt"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    term: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(20))  # two_consecutive | four_cumulative
    round_ids: Mapped[list[str]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | withdrawn
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Appeal(Base):
    """申诉 by the student or the school, decided by the level above the appellant."""

    __tablename__ = "appeal"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    prompt_id: Mapped[UUID | None] = mapped_column(ForeignKey("miss_prompt.id"))
    round_ids: Mapped[list[str]] = mapped_column(JSONB)
    appellant: Mapped[str] = mapped_column(String(10))  # student | school
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | accepted | rejected
    decided_by: Mapped[str | None] = mapped_column(String(40))
    opinion: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
