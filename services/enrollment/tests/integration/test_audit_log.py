"""The audit log on the real database: append-only, hash-chained (an edited row is found), read
by bureaus within their jurisdiction."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.enrollment import audit
from services.enrollment.models.audit import AuditEntry
from services.enrollment.tests.integration.conftest import CITY, COUNTY, SCHOOL, Province
from shared.auth import Principal, Role


def _principal(role: Role, org: str) -> Principal:
    return Principal("acct-audit-test", "audit-test", role, org, "41")


async def _write(p: Province, detail: str, place: audit.Place) -> AuditEntry:
    async with p.ctx.sessionmaker() as session:
        entry = await audit.record(
            session,
            _principal(Role.SCHOOL_REGISTRAR, SCHOOL["41"]),
            action="test.written",
            subject_type="test",
            subject_id="subject-1",
            place=place,
            detail=detail,
            data={"note": detail},
        )
        await session.commit()
        return entry


async def test_audit__no_update_or_delete(p41: Province) -> None:
    entry = await _write(p41, "追加", audit.Place("41", CITY["41"], COUNTY["41"], SCHOOL["41"]))
    for statement in (
        "UPDATE audit_log SET detail = 'x' WHERE seq = :seq",
        "DELETE FROM audit_log WHERE seq = :seq",
    ):
        async with p41.ctx.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement), {"seq": entry.seq})


async def test_audit__an_edited_row_is_detected(p41: Province) -> None:
    entry = await _write(p41, "原始记录", audit.Place("41"))
    await _write(p41, "后续记录", audit.Place("41"))
    province = p41.auth(Role.PROVINCE)
    assert (await p41.client.get("/api/v1/audit/verification", headers=province)).json()["intact"] is True

    async def edit(detail: str) -> None:
        # Someone with the database's owner rights switches the trigger off: only the chain is left.
        async with p41.ctx.sessionmaker() as session:
            await session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            await session.execute(
                text("UPDATE audit_log SET detail = :d WHERE seq = :seq"), {"d": detail, "seq": entry.seq}
            )
            await session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
            await session.commit()

    await edit("篡改后的记录")
    try:
        report = (await p41.client.get("/api/v1/audit/verification", headers=province)).json()
        assert (report["intact"], report["broken_at"]) == (False, entry.seq)
        assert "edited" in report["reason"]
    finally:
        await edit("原始记录")  # the database is shared by the session's other tests
    assert (await p41.client.get("/api/v1/audit/verification", headers=province)).json()["intact"] is True


async def test_audit__full_id_numbers_never_reach_the_log(p41: Province) -> None:
    number = p41.new_id_number()
    entry = await _write(p41, f"查看 {number} 与 G{number}", audit.Place("41"))
    async with p41.ctx.sessionmaker() as session:
        stored = await session.get(AuditEntry, entry.seq)
    assert stored is not None
    assert number not in stored.detail and number not in str(stored.data)
    assert stored.detail.count(number[:4] + "*" * 10 + number[-4:]) == 2


async def test_audit__read_within_jurisdiction(p41: Province, p37: Province) -> None:
    school_entry = await _write(p41, "学校记录", audit.Place("41", CITY["41"], COUNTY["41"], SCHOOL["41"]))
    other = await _write(p41, "别县记录", audit.Place("41", CITY["41"], "410199", "4141990001"))
    assert (await p41.client.get("/api/v1/audit", headers=p41.auth(Role.SCHOOL_REGISTRAR))).status_code == 403
    county = await p41.client.get(
        "/api/v1/audit?action=test.written&limit=500", headers=p41.auth(Role.COUNTY)
    )
    seqs = {item["seq"] for item in county.json()["items"]}
    assert school_entry.seq in seqs and other.seq not in seqs
    city = await p41.client.get("/api/v1/audit?action=test.written&limit=500", headers=p41.auth(Role.CITY))
    assert {school_entry.seq, other.seq} <= {item["seq"] for item in city.json()["items"]}
    assert (
        await p37.client.get("/api/v1/audit?action=test.written", headers=p37.auth(Role.PROVINCE))
    ).json()["total"] == 0
    assert (
        await p41.client.get("/api/v1/audit/verification", headers=p41.auth(Role.COUNTY))
    ).status_code == 403
    async with p41.ctx.sessionmaker() as session:
        assert (await session.scalar(select(AuditEntry.seq).where(AuditEntry.seq == other.seq))) == other.seq
