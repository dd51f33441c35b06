"""Writing and verifying the audit log (models/audit.py, domain/audit_chain.py).

An entry is written in the caller's unit of work, so it commits with the act it records or not
at all. Writers take a transaction-scoped advisory lock, read the last hash and append: the chain
is one line even with concurrent requests (a SERIALIZABLE retry loop was the alternative; the
lock is simpler and audit writes are a small share of traffic).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.audit_chain import GENESIS, ChainBreak, ChainedEntry, chain_hash, first_break
from services.enrollment.models import School
from services.enrollment.models.audit import AuditEntry
from shared.auth import Principal
from shared.idnumber import mask_id_number

_CHAIN_LOCK = 0x6175646974  # "audit": one advisory lock id for the whole log
# Anything shaped like an 18- or 15-character resident ID (also inside a "G…" student number).
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")


@dataclass(frozen=True)
class Place:
    """The lineage an entry is filed under; bureau entries leave the lower levels empty."""

    province: str
    city: str | None = None
    county: str | None = None
    school: str | None = None


def scrub(value: str) -> str:
    """No full ID number ever reaches the log (DESIGN.md "Cross-cutting")."""
    return _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), value)


def _scrub_data(data: Mapping[str, object]) -> dict[str, object]:
    return {key: scrub(value) if isinstance(value, str) else value for key, value in data.items()}


def _content(entry: AuditEntry) -> dict[str, object]:
    """What the hash covers: every column but the two hashes."""
    return {
        "seq": entry.seq,
        "at_us": int(entry.at.timestamp() * 1_000_000),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "actor_org": entry.actor_org,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "province_code": entry.province_code,
        "city_code": entry.city_code,
        "county_code": entry.county_code,
        "school_code": entry.school_code,
        "detail": entry.detail,
        "data": entry.data,
    }


async def place_of_principal(session: AsyncSession, principal: Principal) -> Place:
    """Where an act of the principal's own (an export of their school, say) is filed."""
    org = principal.org
    if len(org) == 10:
        school = await session.get(School, org)
        if school is not None:
            return Place(school.province_code, school.city_code, school.county_code, school.code)
        return Place(principal.province, school=org)
    if len(org) == 6 and org != "000000":
        return Place(org[:2], org[:4], org)
    if len(org) == 4:
        return Place(org[:2], org)
    return Place(principal.province)


async def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    subject_type: str,
    subject_id: str,
    place: Place,
    detail: str,
    data: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append one entry in the session's transaction (the caller commits)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(
        seq=seq,
        # Microseconds are what PostgreSQL keeps: the hash must see the stored value.
        at=datetime.now(UTC),
        actor_id=principal.account_id,
        actor_name=principal.username,
        actor_role=principal.role.value,
        actor_org=principal.org,
        action=action,
        subject_type=subject_type,
        subject_id=scrub(subject_id),
        province_code=place.province,
        city_code=place.city,
        county_code=place.county,
        school_code=place.school,
        detail=scrub(detail),
        data=_scrub_data(data or {}),
        prev_hash=prev_hash,
        hash="",
    )
    entry.hash = chain_hash(prev_hash, _content(entry))
    session.add(entry)
    await session.flush()
    return entry


async def _chained(session: AsyncSession, batch: int) -> AsyncIterator[ChainedEntry]:
    after = 0
    while True:
        rows = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
            )
        )
        for row in rows:
            yield ChainedEntry(row.seq, row.prev_hash, row.hash, _content(row))
        if len(rows) < batch:
            return
        after = rows[-1].seq


async def verify_chain(session: AsyncSession, *, batch: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the whole log; returns how many entries were checked and the first break, if any."""
    checked = 0
    expected_prev = GENESIS
    async for entry in _chained(session, batch):
        found = first_break([entry], start_hash=expected_prev)
        if found is not None:
            return checked, found
        if entry.seq != checked + 1:
            return checked, ChainBreak(entry.seq, f"sequence gap: expected {checked + 1}")
        checked += 1
        expected_prev = entry.hash
    return checked, None
