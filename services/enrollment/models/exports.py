"""Export requests under dual post (双岗, domain/export_approval.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base


class ExportRequest(Base):
    __tablename__ = "export_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(100), index=True)
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_role: Mapped[str] = mapped_column(String(30))
    org: Mapped[str] = mapped_column(String(10), index=True)  # the school or bureau it belongs to
    province: Mapped[str] = mapped_column(String(2))
    filters: Mapped[dict[str, object]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(String(200))
    count_at_request: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
