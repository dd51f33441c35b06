"""Transfers and the student's account (DOMAIN.md "Transfers"): a move inside the province takes
the account, its consent and its face template to the new school; leaving the province deletes
the template, and the account the destination opens has none until the student consents and
captures again there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.identity.models import Account, FaceConsent, FaceTemplate
from services.identity.tests.integration.conftest import (
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
    registrar,
    student_summary,
)
from shared.auth import Principal
from shared.events.common import Lineage
from shared.events.enrollment import StudentMovedWithinProvince, StudentTransferredIn, StudentTransferredOut

pytestmark = pytest.mark.integration

NEW_SCHOOL = Lineage(province="41", city="4102", county="410202", school="4141020001")
OLD_SCHOOL = Lineage(province="41", city="4101", county="410102", school="4141010001")


async def _captured(identity: RunningIdentity) -> Account:
    student = await enrolled_student(identity)
    headers = identity.mint(as_student(student))
    consent = await identity.client.put(
        "/api/v1/me/face-consent", json={"decision": "granted"}, headers=headers
    )
    assert consent.status_code in (200, 201, 204), consent.text
    response = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo("obama/obama_small.jpg")}, headers=headers
    )
    assert response.status_code == 201, response.text
    return student


async def _rows(
    identity: RunningIdentity, account: Account
) -> tuple[Account, FaceTemplate | None, FaceConsent | None]:
    async with identity.ctx.sessionmaker() as session:
        row = await session.get(Account, account.id)
        template = await session.get(FaceTemplate, account.id)
        consent = await session.get(FaceConsent, account.id)
    assert row is not None
    return row, template, consent


def _moved(account: Account, **overrides: object) -> StudentMovedWithinProvince:
    values: dict[str, object] = {
        "student_id": account.student_id,
        "student_number": account.username,
        "lineage": NEW_SCHOOL.model_dump(),
        "school_name": "开封市中等职业技术学校",
        "class_id": "class-4141020001-2025-1",
    }
    summary = student_summary(**{**values, **overrides})
    return StudentMovedWithinProvince(student=summary, transfer_id=str(uuid.uuid4()), from_lineage=OLD_SCHOOL)


async def test_move_within_province__the_account_and_template_follow_the_student(
    identity: RunningIdentity,
) -> None:
    student = await _captured(identity)
    async with identity.ctx.sessionmaker() as session:
        row = await session.get(Account, student.id)
        assert row is not None
        row.counselor_id = str(uuid.uuid4())  # assigned by the old school's registrar
        await session.commit()
    before, _, _ = await _rows(identity, student)

    await identity.applied(await identity.publish(_moved(student)))

    after, template, consent = await _rows(identity, student)
    assert (after.org_code, after.school_code, after.city_code, after.county_code) == (
        "4141020001",
        "4141020001",
        "4102",
        "410202",
    )
    assert after.class_id == "class-4141020001-2025-1"
    assert after.counselor_id is None
    assert (after.status, after.id, after.username) == (before.status, before.id, before.username)
    assert template is not None and template.school_code == "4141020001"  # no fresh capture needed
    assert consent is not None and consent.decision == "granted"

    async def status_for(who: Principal) -> int:
        response = await identity.client.get(f"/api/v1/accounts/{student.id}", headers=identity.mint(who))
        return response.status_code

    assert await status_for(registrar("4141020001")) == 200
    assert await status_for(registrar("4141010001")) == 404


async def test_move_within_province__a_late_older_move_does_not_undo_a_newer_one(
    identity: RunningIdentity,
) -> None:
    student = await enrolled_student(identity)
    now = datetime.now(UTC)
    await identity.applied(await identity.publish_at(_moved(student), now))
    back_home = _moved(student, lineage=OLD_SCHOOL.model_dump(), class_id="class-4141010001-2025-1")
    await identity.applied(await identity.publish_at(back_home, now - timedelta(days=1)))
    after, _, _ = await _rows(identity, student)
    assert after.school_code == "4141020001"


async def test_leaving_the_province__deletes_the_template_here(identity: RunningIdentity) -> None:
    student = await _captured(identity)
    summary = student_summary(
        student_id=student.student_id, student_number=student.username, status="transferred_out"
    )
    await identity.applied(
        await identity.publish(StudentTransferredOut(student=summary, transfer_id="t-out", to_province="37")),
    )
    after, template, _ = await _rows(identity, student)
    assert after.status == "deactivated"
    assert template is None


async def test_arriving_from_another_province__no_template_and_no_consent_until_captured_here(
    identity: RunningIdentity,
) -> None:
    arriving = student_summary()
    await identity.applied(
        await identity.publish(
            StudentTransferredIn(student=arriving, transfer_id="t-in", from_province="37")
        ),
    )
    async with identity.ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.student_id == arriving.student_id))
    assert account is not None
    row, template, consent = await _rows(identity, account)
    assert row.status == "not_activated"
    assert (template, consent) == (None, None)
    # Consent given in the other province does not travel: capturing here asks for it first.
    refused = await identity.client.post(
        "/api/v1/me/face",
        files={"photo": face_photo("obama/obama_small.jpg")},
        headers=identity.mint(as_student(row)),
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("face-consent-required")
