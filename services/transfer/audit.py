"""The transfer service's audit log (shared/audit_log.py): who asked for, approved and downloaded
which cases, and who opened which evidence file. The table is ``models.AuditEntry``; revision
0004 makes it append-only, and there is no deletion path, so the retention of at least six
months holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer.models import AuditEntry
from shared.audit_log import record_audit
from shared.auth import Principal


async def record(
    session: AsyncSession, principal: Principal, *, action: str, subject: str, detail: dict[str, Any]
) -> None:
    await record_audit(session, AuditEntry, principal, action, subject, detail)
