"""Who asked for, approved and downloaded which cases, and who opened which evidence file: the
transfer service's audit log (DESIGN.md "Cross-cutting": exports of personal data are
audit-logged), and the export requests under dual post (双岗, api/exports.py).

The log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0004), and there
is no deletion path, so the retention of at least six months holds.

An entry is written in the caller's transaction, so it commits with the act it records or not
at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from services.transfer.models import Base
from shared.auth import Principal
from shared.dual_post_exports import ExportRequestColumns


class AuditEntry(Base):
    __tablename__ = "transfer_audit"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10))
    actor_province: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)  # masked values only, never a full ID


class TransferExportRequest(ExportRequestColumns, Base):
    """A 跨省转学查询 list asked for by one user, approved by a second of the same office before
    the requester downloads it once (migration 0005). ``filters`` is ``CaseFilter.stored()``."""

    __tablename__ = "transfer_export_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: str(uuid7()))


async def record(
    session: AsyncSession, principal: Principal, *, action: str, subject: str, detail: dict[str, Any]
) -> None:
    session.add(
        AuditEntry(
            action=action,
            actor_id=principal.account_id,
            actor_name=principal.username,
            actor_role=principal.role.value,
            actor_org=principal.org,
            actor_province=principal.province,
            subject=subject,
            detail=detail,
        )
    )
    await session.flush()
