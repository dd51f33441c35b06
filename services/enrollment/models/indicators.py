"""Counts uploaded from the national student system (全国学生系统), for FM5."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base


class NationalCount(Base):
    """The latest count per school the province uploaded (one row per school, replaced)."""

    __tablename__ = "national_count"

    school_code: Mapped[str] = mapped_column(ForeignKey("school.code"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
