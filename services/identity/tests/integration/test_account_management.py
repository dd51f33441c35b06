"""Counselor and registrar accounts, counselor assignment, password resets to one-time
passwords, cancellation, login lockout, refresh tokens and forced logout."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.identity.models import AuditEntry
from services.identity.tests.integration.conftest import (
    SCHOOL_LINEAGE,
    RunningIdentity,
    enrolled_student,
    registrar,
)
from shared.auth import Principal, Role
from shared.bus.tables import OutboxMessage
from shared.events import EventEnvelope

pytestmark = pytest.mark.integration


def _county() -> Principal:
    return Principal(
        account_id=str(uuid.uuid4()), username="c", role=Role.COUNTY, org="410102", province="41"
    )


async def _new_counselor(identity: RunningIdentity) -> dict[str, str]:
    await enrolled_student(identity)  # the school's lineage becomes known to identity
    username = "counselor-" + uuid.uuid4().hex[:8]
    response = await identity.client.post(
        "/api/v1/accounts",
        json={"username": username, "role": "counselor", "display_name": "王老师"},
        headers=identity.mint(registrar()),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {"id": body["account"]["id"], "username": username, "password": body["one_time_password"]}


async def _set_password(identity: RunningIdentity, username: str, old: str, new: str) -> int:
    response = await identity.client.post(
        "/api/v1/auth/password", data={"username": username, "password": old, "new_password": new}
    )
    return response.status_code


async def test_create_account__registrar_creates_a_counselor_who_must_change_the_password(
    identity: RunningIdentity,
) -> None:
    counselor = await _new_counselor(identity)
    first = await identity.sign_in(counselor["username"], counselor["password"])
    assert first.status_code == 403
    assert first.json()["type"] == "urn:xueji:problem:password-change-required"
    assert await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99") == 200
    assert (await identity.sign_in(counselor["username"], "new-secret-99")).status_code == 200


async def test_create_account__a_registrar_may_not_create_a_registrar(identity: RunningIdentity) -> None:
    response = await identity.client.post(
        "/api/v1/accounts",
        json={"username": "reg-" + uuid.uuid4().hex[:8], "role": "school_registrar", "display_name": "x"},
        headers=identity.mint(registrar()),
    )
    assert response.status_code == 403


async def test_create_account__county_creates_registrar_only_for_its_own_schools(
    identity: RunningIdentity,
) -> None:
    own = await identity.client.post(
        "/api/v1/accounts",
        json={
            "username": "reg-" + uuid.uuid4().hex[:8],
            "role": "school_registrar",
            "display_name": "x",
            "lineage": SCHOOL_LINEAGE,
        },
        headers=identity.mint(_county()),
    )
    foreign = await identity.client.post(
        "/api/v1/accounts",
        json={
            "username": "reg-" + uuid.uuid4().hex[:8],
            "role": "school_registrar",
            "display_name": "x",
            "lineage": {**SCHOOL_LINEAGE, "county": "410103"},
        },
        headers=identity.mint(_county()),
    )
    assert own.status_code == 201, own.text
    assert foreign.status_code == 403
    assert foreign.json()["errors"][0]["field"] == "lineage"


async def test_assign_counselor__updates_the_student_and_emits_the_event(identity: RunningIdentity) -> None:
    counselor = await _new_counselor(identity)
    student = await enrolled_student(identity)
    response = await identity.client.put(
        f"/api/v1/students/{student.student_id}/counselor",
        json={"counselor_account_id": counselor["id"]},
        headers=identity.mint(registrar()),
    )
    assert response.status_code == 200, response.text
    async with identity.ctx.sessionmaker() as session:
        bodies = (
            await session.scalars(
                select(OutboxMessage.body).where(OutboxMessage.event_type == "identity.counselor.assigned")
            )
        ).all()
    data = [EventEnvelope.from_bytes(b).data for b in bodies]
    assert {
        "student_id": student.student_id,
        "school_code": "4141010001",
        "counselor_account_id": counselor["id"],
    } in data
    # The counselor now sees the student (jurisdiction by assignment).
    as_counselor = Principal(
        account_id=counselor["id"], username="c", role=Role.COUNSELOR, org="4141010001", province="41"
    )
    seen = await identity.client.get(f"/api/v1/accounts/{student.id}", headers=identity.mint(as_counselor))
    assert seen.status_code == 200


async def test_assign_counselor__another_schools_counselor_is_a_field_problem(
    identity: RunningIdentity,
) -> None:
    student = await enrolled_student(identity)
    response = await identity.client.put(
        f"/api/v1/students/{student.student_id}/counselor",
        json={"counselor_account_id": str(uuid.uuid4())},
        headers=identity.mint(registrar()),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "counselor_account_id"


async def test_reset_password__one_time_password_ends_sessions_and_is_audited(
    identity: RunningIdentity,
) -> None:
    counselor = await _new_counselor(identity)
    await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99")
    refresh = (await identity.sign_in(counselor["username"], "new-secret-99")).json()["refresh_token"]

    reset = await identity.client.post(
        f"/api/v1/accounts/{counselor['id']}/password-reset", headers=identity.mint(registrar())
    )

    assert reset.status_code == 200, reset.text
    assert (await identity.sign_in(counselor["username"], "new-secret-99")).status_code == 401
    otp = reset.json()["one_time_password"]
    assert (await identity.sign_in(counselor["username"], otp)).status_code == 403  # must change it
    assert (
        await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": refresh})
    ).status_code == 401
    async with identity.ctx.sessionmaker() as session:
        kinds = set(
            await session.scalars(select(AuditEntry.kind).where(AuditEntry.account_id == counselor["id"]))
        )
    assert {"account_created", "password_change", "password_reset", "sign_in"} <= kinds


async def test_cancel_account__the_user_can_no_longer_sign_in(identity: RunningIdentity) -> None:
    counselor = await _new_counselor(identity)
    await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99")
    response = await identity.client.post(
        f"/api/v1/accounts/{counselor['id']}/cancel", headers=identity.mint(registrar())
    )
    assert response.status_code == 200
    assert response.json()["status"] == "deactivated"
    assert (await identity.sign_in(counselor["username"], "new-secret-99")).status_code == 401


async def test_sign_in__locked_after_repeated_failures(identity: RunningIdentity) -> None:
    counselor = await _new_counselor(identity)
    await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99")
    for _ in range(identity.settings.login_max_failures):
        assert (await identity.sign_in(counselor["username"], "wrong")).status_code == 401
    locked = await identity.sign_in(counselor["username"], "new-secret-99")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    await identity.ctx.redis.delete(
        f"{identity.settings.redis_prefix}login:fail:account:{counselor['username']}",
        f"{identity.settings.redis_prefix}login:fail:address:127.0.0.1",
    )


async def test_refresh__rotates_and_a_reused_token_ends_the_session(identity: RunningIdentity) -> None:
    counselor = await _new_counselor(identity)
    await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99")
    first = (await identity.sign_in(counselor["username"], "new-secret-99")).json()["refresh_token"]
    second = await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": first})
    assert second.status_code == 200
    new = second.json()["refresh_token"]
    assert new != first
    assert (
        await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": first})
    ).status_code == 401
    # Reuse of the rotated token revoked the family, the new token included.
    assert (
        await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": new})
    ).status_code == 401


async def test_sessions__listed_in_jurisdiction_and_forced_out(identity: RunningIdentity) -> None:
    counselor = await _new_counselor(identity)
    await _set_password(identity, counselor["username"], counselor["password"], "new-secret-99")
    refresh = (await identity.sign_in(counselor["username"], "new-secret-99")).json()["refresh_token"]
    listed = await identity.client.get("/api/v1/sessions", headers=identity.mint(registrar()))
    assert listed.status_code == 200
    mine = [s for s in listed.json() if s["account_id"] == counselor["id"]]
    assert len(mine) == 1
    elsewhere = await identity.client.get("/api/v1/sessions", headers=identity.mint(registrar("4141019999")))
    assert all(s["account_id"] != counselor["id"] for s in elsewhere.json())

    out = await identity.client.delete(
        f"/api/v1/sessions/{mine[0]['session_id']}", headers=identity.mint(registrar())
    )

    assert out.status_code == 204
    assert (
        await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": refresh})
    ).status_code == 401


async def test_audit_entry__is_append_only(identity: RunningIdentity) -> None:
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    async with identity.ctx.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(delete(AuditEntry))


async def test_audit_entry__a_change_behind_the_trigger_breaks_the_hash_chain(
    identity: RunningIdentity,
) -> None:
    from sqlalchemy import text

    from services.identity.audit import AuditKind, broken_audit_entries, record

    async with identity.ctx.uow() as uow:
        for n in range(3):
            record(uow.session, AuditKind.SIGN_IN, "issued", account_id=f"chain-{n}")
        await uow.commit()
    async with identity.ctx.sessionmaker() as session:
        assert await broken_audit_entries(session) == []
        victim = await session.scalar(select(AuditEntry.id).where(AuditEntry.account_id == "chain-1"))
        # A superuser can switch the append-only trigger off; the chain still tells.
        await session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        await session.execute(
            text("UPDATE audit_entry SET outcome = 'refused' WHERE id = :id"), {"id": victim}
        )
        await session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
        await session.commit()
        assert await broken_audit_entries(session) == [victim]
