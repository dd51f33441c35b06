"""Face templates end with the record: at once on withdrawal, after the retention on graduation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.identity.models import Account, FaceTemplate
from services.identity.template_sweeper import SWEEPER_KEY, TemplateSweeper
from services.identity.tests.integration.conftest import (
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
    student_summary,
)
from shared.events.enrollment import StudentStatusChanged
from shared.testing import eventually

pytestmark = pytest.mark.integration


async def _captured(identity: RunningIdentity) -> Account:
    student = await enrolled_student(identity)
    headers = identity.mint(as_student(student))
    await identity.client.put("/api/v1/me/face-consent", json={"decision": "granted"}, headers=headers)
    response = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo("obama/obama_small.jpg")}, headers=headers
    )
    assert response.status_code == 201, response.text
    return student


async def _status(identity: RunningIdentity, student: Account, status: str) -> None:
    summary = student_summary(student_id=student.student_id, student_number=student.username, status=status)
    await identity.publish(
        StudentStatusChanged(student=summary, change_type=status, from_status="in_school", review_id="r-1")
    )


async def _template(identity: RunningIdentity, student: Account) -> FaceTemplate | None:
    async with identity.ctx.sessionmaker() as session:
        row: FaceTemplate | None = await session.scalar(
            select(FaceTemplate).where(FaceTemplate.account_id == student.id)
        )
    return row


async def test_withdrawal__deletes_the_template_at_once(identity: RunningIdentity) -> None:
    student = await _captured(identity)
    await _status(identity, student, "withdrawn")

    async def gone() -> bool | None:
        return True if await _template(identity, student) is None else None

    assert await eventually(gone)


async def test_graduation__schedules_deletion_after_the_retention(identity: RunningIdentity) -> None:
    student = await _captured(identity)
    await _status(identity, student, "graduated")

    async def scheduled() -> FaceTemplate | None:
        row = await _template(identity, student)
        return row if row is not None and row.delete_on is not None else None

    row = await eventually(scheduled)
    today = datetime.now(UTC).date()
    assert row.delete_on is not None
    assert today + timedelta(days=170) < row.delete_on < today + timedelta(days=190)


async def test_retention__the_running_sweeper_deletes_a_template_whose_day_has_come(
    identity: RunningIdentity,
) -> None:
    """Deletion does not wait for a restart: the service's own sweeper takes due templates."""
    sweeper = identity.ctx.extras[SWEEPER_KEY]
    assert isinstance(sweeper, TemplateSweeper) and sweeper.running
    student = await _captured(identity)
    async with identity.ctx.sessionmaker() as session:
        row = await session.scalar(select(FaceTemplate).where(FaceTemplate.account_id == student.id))
        assert row is not None
        row.delete_on = datetime.now(UTC).date() - timedelta(days=1)
        await session.commit()
    await sweeper.step()
    assert await _template(identity, student) is None
