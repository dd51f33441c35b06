"""Verification summaries that came before the record they belong to (transfers.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base

PARKED_SUMMARY_UNIQUE = "parked_verification_summary_line"


class ParkedVerificationSummary(Base):
    """A partner's 常态化核验汇总 for a student whose released record has not been admitted yet.

    It travels beside ``enrollment.record.released`` and may overtake it; admission turns the row
    into a history line and deletes it. No foreign key to ``student``: the record is what is
    missing. The history line it becomes is stored ready-made, so a replay of the same summary
    meets the unique constraint instead of waiting twice.
    """

    __tablename__ = "parked_verification_summary"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(40), index=True)
    transfer_id: Mapped[str] = mapped_column(Text)
    from_province: Mapped[str] = mapped_column(String(2))
    detail: Mapped[str] = mapped_column(Text)
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("student_id", "detail", name=PARKED_SUMMARY_UNIQUE),)
