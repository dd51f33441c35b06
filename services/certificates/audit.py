"""The certificates service's audit log (shared/audit_log.py): who printed, reprinted (and why),
downloaded, voided, rolled back, and who read a certificate in full. The table is
``models.AuditEntry``; revision 0002 makes it append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.models import AuditEntry
from shared import audit_log
from shared.auth import Principal


async def record_audit(
    session: AsyncSession, principal: Principal, action: str, subject: str, detail: dict[str, Any]
) -> None:
    await audit_log.record_audit(session, AuditEntry, principal, action, subject, detail)
