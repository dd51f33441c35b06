"""Which students were proposed for suspension for too much leave, per term: the event goes
out once per student and term however many approvals push the total further."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class SuspensionProposal(Base):
    __tablename__ = "suspension_proposal"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    term: Mapped[str] = mapped_column(String(20), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10))
    leave_days: Mapped[int] = mapped_column(Integer)  # the total when it was proposed
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
