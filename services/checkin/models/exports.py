"""Exports of lists and statistics: requests under dual post (双岗) and the audit log of who
exported what."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, DateTime, Identity, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class ExportRequest(Base):
    """A list with personal data, asked for by one user and approved by a second of the same
    school or bureau before its requester may download it once (shared/dual_post.py)."""

    __tablename__ = "export_request"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    kind: Mapped[str] = mapped_column(String(20))  # completed_list | incomplete_list
    round_id: Mapped[UUID] = mapped_column()
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(String(200))
    count_at_request: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(40))
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_role: Mapped[str] = mapped_column(String(30))
    org: Mapped[str] = mapped_column(String(10), index=True)
    province: Mapped[str] = mapped_column(String(2))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String(40))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who exported (or asked, or approved) what. Append-only and hash-chained by triggers
    (migration 0005), like identity's log: the application cannot rewrite it."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10), index=True)
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    entry_hash: Mapped[str] = mapped_column(String(64), server_default="")
