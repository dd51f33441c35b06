"""What check-in keeps from other services: who may check in, where they belong, which key
signs their check-ins, and who their counselor is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base
from shared.readmodels import StudentViewMixin


class StudentView(StudentViewMixin, Base):
    """Who may check in, and where they belong (from enrollment's events)."""

    # When the student last arrived at their school by a transfer: misses and leave before it
    # belong to the old school and count no more (DOMAIN.md "Transfers"). None: never moved.
    counting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampusView(Base):
    """A campus boundary as enrollment registered it; check-ins are judged against it."""

    __tablename__ = "campus_view"

    campus_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200))
    crs: Mapped[str] = mapped_column(String(10))  # the datum the boundary was drawn in
    boundary: Mapped[dict[str, Any]] = mapped_column(JSONB)


class DeviceKeyView(Base):
    """The live public key of each student's app (identity.device.registered)."""

    __tablename__ = "device_key_view"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # raw 32 bytes, Ed25519
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CounselorView(Base):
    """Which counselor account looks after a student (identity.counselor.assigned)."""

    __tablename__ = "counselor_view"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    counselor_account_id: Mapped[str] = mapped_column(String(40), index=True)
