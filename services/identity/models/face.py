"""Face consent, templates and ID photos (issue 4, items 3 and 6)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models.base import Base


class FaceConsent(Base):
    """The student's separate decision on server-side face processing (PIPL art. 28-29), and
    for a student who declined, the counselor's recorded in-person verification."""

    __tablename__ = "face_consent"

    account_id: Mapped[UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(10))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    consent_text_version: Mapped[str] = mapped_column(String(20))
    verified_in_person_by: Mapped[str | None] = mapped_column(String(36))
    verified_in_person_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("decision IN ('granted', 'declined')", name="face_consent_decision"),)


class FaceTemplate(Base):
    """One per student: re-capture replaces it. Sealed with AES-GCM under ``key_id``."""

    __tablename__ = "face_template"

    account_id: Mapped[UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(40), unique=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    photo_version: Mapped[int]
    possible_proxy_of: Mapped[str | None] = mapped_column(String(40))  # the other student's id
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the record ends (domain/template_retention.py); swept on and after that day.
    delete_on: Mapped[date | None] = mapped_column(Date, index=True)


class IdPhoto(Base):
    """Every accepted photo, by version; the newest is the ID photo certificates print."""

    __tablename__ = "id_photo"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
