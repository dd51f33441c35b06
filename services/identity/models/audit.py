"""The audit log (issue 4, item 6; DESIGN.md: kept at least 6 months, tamper-evident).

Append-only: the migration installs a trigger that refuses UPDATE and DELETE, so not even a bug
in this service can rewrite history; and a hash chain (also a trigger) makes a change made
behind the trigger's back detectable (``services.identity.audit.broken_audit_entries``).
No personal data beyond account and student ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # see services.identity.audit.AuditKind
    outcome: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(36), index=True)  # whom it concerns
    actor_id: Mapped[str | None] = mapped_column(String(36))  # who did it, when someone else
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    # Filled by the database's trigger (the hash chain), never by the application.
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    entry_hash: Mapped[str] = mapped_column(String(64), server_default="")
