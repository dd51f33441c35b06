"""The audit log: who read or exported personal data, and who decided what. Append-only (a
trigger refuses UPDATE and DELETE; there is no deletion path, so the ≥ 6 months' retention of
DESIGN.md holds by construction) and hash-chained (domain/audit_chain.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class AuditEntry(Base):
    __tablename__ = "audit_log"

    # Assigned under the chain lock, so seq order is chain order with no gaps from rollbacks.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    # Whose jurisdiction the entry falls in (the subject's lineage, or the actor's own org).
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str | None] = mapped_column(String(4))
    county_code: Mapped[str | None] = mapped_column(String(6))
    school_code: Mapped[str | None] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text)  # never a full ID number (audit.py masks them)
    data: Mapped[dict[str, object]] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


AUDIT_ORG = OrgColumns(
    province=AuditEntry.province_code,
    city=AuditEntry.city_code,
    county=AuditEntry.county_code,
    school=AuditEntry.school_code,
)
