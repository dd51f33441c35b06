"""A transfer moves the student's roster row, and check-in starts anew at the destination from
the moment of the move (DOMAIN.md "Transfers"): misses and leave before it count no more, open
leave at the old school ends with reason 转学."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from services.checkin.models import CounselorView, Leave, MissPrompt, StudentView
from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    assign_counselor,
    close_round,
    misses_of,
    seed_area_student,
    seed_future_round,
)
from shared.auth import Role
from shared.bus.tables import OutboxMessage
from shared.events.checkin import VerificationSummaryReleased
from shared.events.common import Lineage, StudentSummary
from shared.events.enrollment import StudentMovedWithinProvince, StudentTransferredIn, StudentTransferredOut

SUSPENSION = "checkin.student.suspension_proposed"


def _at(school: str, student: StudentSummary, area: Area) -> StudentSummary:
    return student.model_copy(
        update={
            "lineage": Lineage.model_validate(area.lineage(school)),
            "school_name": "新学校",
            "class_id": f"class-{school}-2024-1",
        }
    )


async def _move(checkin: RunningCheckin, area: Area, student: StudentSummary, at: datetime) -> StudentSummary:
    moved = _at(area.other_school, student, area)
    envelope = await checkin.publish(
        StudentMovedWithinProvince(
            student=moved,
            transfer_id=str(uuid.uuid4()),
            from_lineage=student.lineage,
        ),
        occurred_at=at,
    )
    await checkin.applied(envelope)
    return moved


async def _row(checkin: RunningCheckin, student_id: str) -> StudentView:
    async with checkin.ctx.sessionmaker() as session:
        row = await session.get(StudentView, student_id)
    assert row is not None
    return row


async def _prompts(checkin: RunningCheckin, student: StudentSummary) -> list[tuple[str, list[str]]]:
    async with checkin.ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(MissPrompt)
            .where(MissPrompt.student_id == student.student_id)
            .order_by(MissPrompt.created_at)
        )
        return [(p.rule, p.round_ids) for p in rows]


async def test_move__the_roster_follows_and_the_old_counselor_lets_go(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    await assign_counselor(checkin, student, "counselor-of-the-old-school")
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    await _move(checkin, area, student, at)

    row = await _row(checkin, student.student_id)
    assert (row.school_code, row.class_id) == (area.other_school, f"class-{area.other_school}-2024-1")
    assert row.counting_since == at
    async with checkin.ctx.sessionmaker() as session:
        assert await session.get(CounselorView, student.student_id) is None

    # A late redelivery of an earlier move does not move the start back.
    earlier = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    await _move(checkin, area, student, earlier)
    assert (await _row(checkin, student.student_id)).counting_since == at


async def test_move__misses_before_it_do_not_count_afterwards(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    rounds = [
        await seed_future_round(checkin, area, starts_at=datetime(2031, 3, n, 1, 0, tzinfo=UTC))
        for n in (2, 3, 4)
    ]
    await close_round(checkin, rounds[0])
    assert student.student_id in await misses_of(checkin, rounds[0])

    # Moved to the county's other school between the first and the second round.
    await _move(checkin, area, student, datetime(2031, 3, 2, 12, 0, tzinfo=UTC))
    await close_round(checkin, rounds[1])
    assert student.student_id in await misses_of(checkin, rounds[1])  # still called at the new school
    assert await _prompts(checkin, student) == []  # one miss before the move, one after: not two

    await close_round(checkin, rounds[2])
    assert await _prompts(checkin, student) == [("two_consecutive", [str(rounds[1].id), str(rounds[2].id)])]


async def test_arrival_from_another_province__misses_start_anew_too(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    rounds = [
        await seed_future_round(checkin, area, starts_at=datetime(2031, 4, n, 1, 0, tzinfo=UTC))
        for n in (7, 8)
    ]
    await close_round(checkin, rounds[0])
    # Left for another province and came back (a returning record): only the second round counts.
    envelope = await checkin.publish(
        StudentTransferredIn(student=student, transfer_id=str(uuid.uuid4()), from_province="37"),
        occurred_at=datetime(2031, 4, 7, 12, 0, tzinfo=UTC),
    )
    await checkin.applied(envelope)
    await close_round(checkin, rounds[1])
    assert await _prompts(checkin, student) == []


async def _seed_leave(
    checkin: RunningCheckin, student: StudentSummary, first: date, last: date, state: str
) -> uuid.UUID:
    leave_id = uuid.uuid4()
    async with checkin.ctx.sessionmaker() as session:
        session.add(
            Leave(
                id=leave_id,
                student_id=student.student_id,
                school_code=student.lineage.school,
                term="2026-autumn",
                starts_on=first,
                ends_on=last,
                reason="家中有事",
                state=state,
                requested_at=datetime(2026, 9, 1, 2, 0, tzinfo=UTC),
            )
        )
        await session.commit()
    return leave_id


async def test_move__open_leave_at_the_old_school_ends_with_reason_transfer(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    asked = await _seed_leave(checkin, student, date(2026, 11, 25), date(2026, 11, 26), "requested")
    under_way = await _seed_leave(checkin, student, date(2026, 11, 18), date(2026, 11, 24), "approved")
    not_begun = await _seed_leave(checkin, student, date(2026, 11, 23), date(2026, 11, 24), "approved")
    rejected = await _seed_leave(checkin, student, date(2026, 11, 10), date(2026, 11, 11), "rejected")
    await _move(checkin, area, student, datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # 10:00 on 20 Nov in China

    async with checkin.ctx.sessionmaker() as session:
        rows = {
            row.id: (row.state, row.ended_on, row.end_reason)
            for row in await session.scalars(select(Leave).where(Leave.student_id == student.student_id))
        }
    assert rows == {
        asked: ("cancelled", None, "转学"),
        under_way: ("ended", date(2026, 11, 20), "转学"),
        not_begun: ("cancelled", None, "转学"),
        rejected: ("rejected", None, None),
    }
    shown = await checkin.client.get(f"/api/v1/leaves/{under_way}", headers=checkin.auth(Role.PROVINCE, "41"))
    assert shown.status_code == 200, shown.text
    assert (shown.json()["state"], shown.json()["end_reason"]) == ("ended", "转学")


async def test_move__leave_days_start_anew_at_the_new_school(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    await _seed_leave(
        checkin, student, date(2026, 9, 7), date(2026, 9, 16), "ended"
    )  # 10 days at the old school
    moved = await _move(checkin, area, student, datetime(2026, 11, 20, 2, 0, tzinfo=UTC))

    body = {"starts_on": "2026-12-01", "ends_on": "2026-12-10", "reason": "家中有事"}  # 10 more days
    asked = await checkin.client.post("/api/v1/leaves", json=body, headers=checkin.as_student(moved))
    assert asked.status_code == 201, asked.text
    decided = await checkin.client.post(
        f"/api/v1/leaves/{asked.json()['id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school),
    )
    assert decided.status_code == 200, decided.text

    assert [e for e in await checkin.outbox(SUSPENSION) if e.data["student_id"] == student.student_id] == []
    days = await checkin.client.get(
        f"/api/v1/students/{student.student_id}/leave-days",
        params={"term": "2026-autumn"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school),
    )
    assert days.json()["granted_days"] == 10


async def test_leaving_for_another_province__the_verification_summary_goes_along(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    rounds = [
        await seed_future_round(checkin, area, starts_at=datetime(2032, 3, n, 1, 0, tzinfo=UTC))
        for n in (2, 3)
    ]
    for round_row in rounds:
        await close_round(checkin, round_row)
    transfer_id = str(uuid.uuid4())
    envelope = await checkin.publish(
        StudentTransferredOut(
            student=student.model_copy(update={"status": "transferred_out"}),
            transfer_id=transfer_id,
            to_province="37",
        )
    )
    await checkin.applied(envelope)

    [sent] = [
        e
        for e in await checkin.outbox(VerificationSummaryReleased.event_type)
        if e.data["transfer_id"] == transfer_id
    ]
    summary = VerificationSummaryReleased.model_validate(sent.data)
    assert (summary.student_id, summary.rounds_missed, summary.rounds_checked_in) == (
        student.student_id,
        2,
        0,
    )
    assert (summary.first_round_on, summary.last_round_on) == (date(2032, 3, 2), date(2032, 3, 3))
    async with checkin.ctx.sessionmaker() as session:
        [row] = await session.scalars(select(OutboxMessage).where(OutboxMessage.id == sent.id))
    assert row.routing_key == f"37.{VerificationSummaryReleased.event_type}"
