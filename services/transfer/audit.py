"""Who asked for, approved and downloaded which cases, and who opened which evidence file: the
transfer service's audit log (DESIGN.md "Cross-cutting": exports of personal data are
audit-logged; the table is ``models.AuditEntry``).

The log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (revision 0004), and there
is no deletion path, so the retention of at least six months holds.

An entry is written in the caller's transaction, so it commits with the act it records or not
at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer.models import AuditEntry
from shared.auth import Principal


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
