"""Writing the audit log (issue 4, item 6): one row per sign-in, password change or reset,
account change, face capture and face verification, in the same transaction as the change."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.models import AuditEntry


class AuditKind(StrEnum):
    SIGN_IN = "sign_in"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CANCELLED = "account_cancelled"
    COUNSELOR_ASSIGNED = "counselor_assigned"
    SESSION_REVOKED = "session_revoked"
    ACTIVATION = "activation"
    FACE_CONSENT = "face_consent"
    FACE_CAPTURE = "face_capture"
    FACE_VERIFICATION = "face_verification"
    TEMPLATE_DELETED = "template_deleted"
    SIGNING_KEY_ROTATED = "signing_key_rotated"


def record(
    session: AsyncSession,
    kind: AuditKind,
    outcome: str,
    *,
    account_id: object | None = None,
    actor_id: object | None = None,
    client_address: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            kind=kind.value,
            outcome=outcome,
            account_id=str(account_id) if account_id is not None else None,
            actor_id=str(actor_id) if actor_id is not None else None,
            client_address=client_address,
            detail=detail,
        )
    )


async def broken_audit_entries(session: AsyncSession) -> list[int]:
    """Ids of entries whose content no longer matches their hash, or whose predecessor is
    missing or claimed twice: evidence of tampering. Empty for an intact log. (Removing the
    newest entries leaves no gap: that is what the copies shipped off-site are for.)"""
    rows = (
        await session.execute(
            text(
                "SELECT e.id, e.prev_hash, e.entry_hash, "
                "audit_entry_content_hash(e) = e.entry_hash AS intact FROM audit_entry e ORDER BY e.id"
            )
        )
    ).all()
    hashes = {row.entry_hash for row in rows}
    seen_prev: set[str] = set()
    broken: list[int] = []
    for row in rows:
        linked = row.prev_hash == "" or row.prev_hash in hashes
        if not row.intact or not linked or row.prev_hash in seen_prev:
            broken.append(int(row.id))
        seen_prev.add(row.prev_hash)
    return broken
