from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.identity.models import Account
from services.identity.tests.integration.conftest import RunningIdentity
from shared.auth import Principal, Role
from shared.events.common import Lineage, StudentSummary
from shared.events.enrollment import StudentRegistered, StudentTransferredIn, StudentTransferredOut
from shared.testing import eventually

pytestmark = pytest.mark.integration

SCHOOL = Lineage(province="41", city="4101", county="410102", school="4141010001")


def _student(status: str = "in_school") -> StudentSummary:
    student_id = str(uuid.uuid4())
    return StudentSummary.model_validate(
        {
            "student_id": student_id,
            "student_number": "G4101022009" + str(uuid.uuid4().int)[:7],
            "name": "张三",
            "sex": "M",
            "birth_date": "2009-05-01",
            "id_number_masked": "4101**********1234",
            "lineage": SCHOOL.model_dump(),
            "school_name": "郑州市信息技术中等职业学校",
            "class_id": "class-4141010001-2025-1",
            "grade": 2025,
            "major_code": "710201",
            "study_length": 3,
            "study_form": "full_time",
            "status": status,
        }
    )


async def _account(identity: RunningIdentity, student_id: str) -> Account | None:
    async with identity.ctx.sessionmaker() as session:
        account: Account | None = await session.scalar(
            select(Account).where(Account.student_id == student_id)
        )
    return account


async def test_student_registered__opens_a_not_activated_account(identity: RunningIdentity) -> None:
    student = _student()
    await identity.publish(StudentRegistered(student=student))

    async def opened() -> Account | None:
        return await _account(identity, student.student_id)

    account = await eventually(opened)
    assert account.status == "not_activated"
    assert account.username == student.student_number
    assert account.role == "student"
    assert account.org_code == "4141010001"
    assert account.password_hash is None
    assert (account.province_code, account.city_code, account.county_code, account.school_code) == (
        "41",
        "4101",
        "410102",
        "4141010001",
    )
    refused = await identity.sign_in(student.student_number, "anything")
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:xueji:problem:sign-in-failed"


async def test_get_account__a_student_account_follows_the_organisation_tree(
    identity: RunningIdentity,
) -> None:
    student = _student()
    await identity.applied(await identity.publish(StudentRegistered(student=student)))
    account = await _account(identity, student.student_id)
    assert account is not None

    def principal(role: Role, org: str, **extra: str) -> Principal:
        return Principal(str(uuid.uuid4()), "x", role, org, "41", **extra)

    async def status_for(who: Principal) -> int:
        response = await identity.client.get(f"/api/v1/accounts/{account.id}", headers=identity.mint(who))
        return response.status_code

    assert await status_for(principal(Role.SCHOOL_REGISTRAR, "4141010001")) == 200
    assert await status_for(principal(Role.COUNTY, "410102")) == 200
    assert await status_for(principal(Role.CITY, "4101")) == 200
    assert await status_for(principal(Role.PROVINCE, "41")) == 200
    assert await status_for(principal(Role.SCHOOL_REGISTRAR, "4141010002")) == 404
    assert await status_for(principal(Role.COUNTY, "410103")) == 404
    assert await status_for(principal(Role.COUNSELOR, "4141010001")) == 404
    assert await status_for(principal(Role.STUDENT, "4141010001", student_id=str(uuid.uuid4()))) == 404
    student_self = Principal(
        account_id=str(account.id),
        username=account.username,
        role=Role.STUDENT,
        org="4141010001",
        province="41",
        student_id=student.student_id,
    )
    assert await status_for(student_self) == 200
    me = await identity.client.get("/api/v1/accounts/me", headers=identity.mint(student_self))
    assert me.json()["lineage"] == SCHOOL.model_dump()


async def test_student_transferred_out__deactivates_and_transferred_in_reopens(
    identity: RunningIdentity,
) -> None:
    student = _student()
    start = datetime.now(UTC)
    await identity.applied(await identity.publish_at(StudentRegistered(student=student), start))

    left = StudentTransferredOut(
        student=student.model_copy(update={"status": "transferred_out"}), transfer_id="t-1", to_province="37"
    )
    await identity.applied(await identity.publish_at(left, start + timedelta(seconds=1)))
    account = await _account(identity, student.student_id)
    assert account is not None and account.status == "deactivated"

    back = StudentTransferredIn(student=student, transfer_id="t-2", from_province="37")
    await identity.applied(await identity.publish_at(back, start + timedelta(seconds=2)))
    reopened = await _account(identity, student.student_id)
    assert reopened is not None
    assert reopened.status == "not_activated"
    assert reopened.id == account.id  # one account per student, whatever happens to the record


async def test_student_events__a_late_older_event_does_not_undo_a_newer_one(
    identity: RunningIdentity,
) -> None:
    student = _student()
    now = datetime.now(UTC)
    left = StudentTransferredOut(student=student, transfer_id="t-3", to_province="37")
    await identity.applied(await identity.publish_at(left, now))
    older = StudentRegistered(student=student)
    await identity.applied(await identity.publish_at(older, now - timedelta(days=1)))

    account = await _account(identity, student.student_id)
    assert account is not None
    assert account.status == "deactivated"


async def test_student_registered__a_redelivery_changes_nothing(identity: RunningIdentity) -> None:
    student = _student()
    envelope = await identity.publish(StudentRegistered(student=student))
    await identity.applied(envelope)
    await identity.publish(StudentRegistered(student=student), envelope)
    await identity.applied(await identity.publish(StudentRegistered(student=_student())))  # a later marker

    async with identity.ctx.sessionmaker() as session:
        rows = (await session.scalars(select(Account).where(Account.student_id == student.student_id))).all()
    assert len(rows) == 1
