"""The certificates service's audit log (DESIGN.md "Cross-cutting": reads and exports of personal
data are audit-logged): who printed, reprinted (and why), downloaded, voided, rolled back, and
who read a certificate in full. The table is ``models.AuditEntry``; a trigger refuses UPDATE,
DELETE and TRUNCATE (revision 0002).

An entry is written in the caller's transaction, so it commits with the act it records or not
at all. ``detail`` holds masked values only, never a full ID number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.models import AuditEntry
from shared.auth import Principal


async def record_audit(
    session: AsyncSession, principal: Principal, action: str, subject: str, detail: dict[str, Any]
) -> None:
    session.add(
        AuditEntry(
            action=action,
            actor_id=principal.account_id,
            actor_role=principal.role.value,
            actor_org=principal.org,
            subject=subject,
            detail=detail,
        )
    )
    await session.flush()
