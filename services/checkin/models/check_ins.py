"""Check-in attempts, the one that counts per student and round, and what cheating checks
remember."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class CheckIn(Base):
    """One attempt. ``state`` is awaiting_face until identity answers, then decided."""

    __tablename__ = "check_in"
    __table_args__ = (
        Index("ix_check_in_round_device_time", "round_id", "device_id", "received_at"),
        Index("ix_check_in_student_time", "student_id", "received_at"),
        Index("ix_check_in_round_school", "round_id", "school_code"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    round_id: Mapped[UUID] = mapped_column(ForeignKey("round.id"))
    student_id: Mapped[str] = mapped_column(String(40))
    school_code: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    crs: Mapped[str] = mapped_column(String(10))  # WGS-84 | GCJ-02, as the phone reported
    device_id: Mapped[str] = mapped_column(String(100))
    emulator: Mapped[bool] = mapped_column(Boolean)
    mock_location: Mapped[bool] = mapped_column(Boolean)
    rooted: Mapped[bool] = mapped_column(Boolean)
    selfie_sha256: Mapped[str] = mapped_column(String(64))
    # What the position said (migration 0003): inside | outside | straddles, and the
    # result it gives alone (normal | internship | off_campus), kept until the face result.
    geofence: Mapped[str | None] = mapped_column(String(10))
    position_result: Mapped[str | None] = mapped_column(String(20))
    shared_device: Mapped[bool] = mapped_column(Boolean, default=False)  # a suspicion the face decides
    face_required: Mapped[bool] = mapped_column(Boolean)
    face_outcome: Mapped[str | None] = mapped_column(String(20))
    face_distance: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(15))  # awaiting_face | decided
    # normal | internship | off_campus | suspected_cheating
    result: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoundAttendance(Base):
    """The attempt that counts for a student in a round. Locked (FOR UPDATE) by a new attempt,
    so "normal and internship are final" is decided in one place under concurrency."""

    __tablename__ = "round_attendance"
    __table_args__ = (Index("ix_round_attendance_round_school", "round_id", "school_code"),)

    round_id: Mapped[UUID] = mapped_column(ForeignKey("round.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10))
    current_check_in_id: Mapped[UUID] = mapped_column(ForeignKey("check_in.id"))
    result: Mapped[str | None] = mapped_column(String(20))  # mirrors the current attempt once decided
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Selfie(Base):
    """Selfie bytes kept only while a face check needs them (ADR 0006), then purged."""

    __tablename__ = "selfie"

    check_in_id: Mapped[UUID] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SelfieSeen(Base):
    """Every selfie hash once: the same bytes sent again (by anyone) are a replay."""

    __tablename__ = "selfie_seen"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_check_in_id: Mapped[UUID] = mapped_column()
    student_id: Mapped[str] = mapped_column(String(40))
