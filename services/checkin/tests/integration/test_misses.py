"""Closing a round records who missed it (set-wise), and two consecutive or four cumulative
misses in a term raise one prompt each, with MissThresholdReached."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text

from services.checkin.domain.eligibility import Candidate, Eligibility, RoundScope, eligibility
from services.checkin.models import Leave, Miss, MissPrompt, Round, StudentView
from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    close_round,
    events_about,
    misses_of,
    record_check_in,
    seed_area_student,
    seed_future_round,
)
from shared.events.common import StudentSummary


async def seed_leave(
    checkin: RunningCheckin,
    student: StudentSummary,
    starts_on: date,
    ends_on: date,
    *,
    state: str = "approved",
    ended_on: date | None = None,
) -> None:
    async with checkin.ctx.sessionmaker() as session:
        session.add(
            Leave(
                id=uuid.uuid4(),
                student_id=student.student_id,
                school_code=student.lineage.school,
                term="2031-spring",
                starts_on=starts_on,
                ends_on=ends_on,
                reason="病假",
                state=state,
                ended_on=ended_on,
            )
        )
        await session.commit()


async def prompts_of(checkin: RunningCheckin, student: StudentSummary) -> list[MissPrompt]:
    async with checkin.ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(MissPrompt)
            .where(MissPrompt.student_id == student.student_id)
            .order_by(MissPrompt.created_at)
        )
        return list(rows)


def day_round_start(n: int) -> datetime:
    """09:00 in Shanghai on the n-th day of March 2031."""
    return datetime(2031, 3, n, 1, 0, tzinfo=UTC)


async def test_closing__every_eligible_student_without_a_valid_check_in_missed_it(
    checkin: RunningCheckin, area: Area
) -> None:
    row = await seed_future_round(checkin, area, starts_at=day_round_start(10))
    first_day = date(2031, 3, 10)
    normal = await seed_area_student(checkin, area)
    internship = await seed_area_student(checkin, area)
    off_campus = await seed_area_student(checkin, area)
    cheating = await seed_area_student(checkin, area)
    absent = await seed_area_student(checkin, area)
    part_time = await seed_area_student(checkin, area, study_form="part_time")
    suspended = await seed_area_student(checkin, area, status="suspended")
    old_grade = await seed_area_student(checkin, area, grade=2022)
    on_leave = await seed_area_student(checkin, area)
    leave_ended_before = await seed_area_student(checkin, area)
    leave_refused = await seed_area_student(checkin, area)
    other_county = await seed_area_student(
        checkin, area, lineage={"province": "41", "city": "4198", "county": "419800", "school": "4198000001"}
    )
    for student, result in [
        (normal, "normal"),
        (internship, "internship"),
        (off_campus, "off_campus"),
        (cheating, "suspected_cheating"),
    ]:
        await record_check_in(checkin, row.id, student, result, received_at=row.starts_at)
    await seed_leave(checkin, on_leave, first_day - timedelta(days=2), first_day + timedelta(days=2))
    await seed_leave(
        checkin,
        leave_ended_before,
        first_day - timedelta(days=5),
        first_day + timedelta(days=2),
        state="ended",
        ended_on=first_day - timedelta(days=1),  # 销假 the day before the round
    )
    await seed_leave(checkin, leave_refused, first_day, first_day, state="rejected")

    await close_round(checkin, row)

    missed = await misses_of(checkin, row)
    expected = {off_campus, cheating, absent, leave_ended_before, leave_refused}
    assert set(missed) == {s.student_id for s in expected}
    assert not any(missed.values())
    closed = await events_about(checkin, "checkin.round.closed", "round_id", str(row.id))
    assert closed == [{"round_id": str(row.id), "eligible": 7, "completed": 2, "missed": 5}]

    # The SQL and the domain rule agree on every one of these students.
    async with checkin.ctx.sessionmaker() as session:
        round_row = await session.get(Round, row.id)
        assert round_row is not None
        everyone = [
            normal, internship, off_campus, cheating, absent, part_time, suspended, old_grade,
            on_leave, leave_ended_before, leave_refused, other_county,
        ]  # fmt: skip
        for student in everyone:
            view = await session.get(StudentView, student.student_id)
            verdict = eligibility(RoundScope.of(round_row), Candidate.of(view), on_leave=student is on_leave)
            completed = student in (normal, internship)
            assert (student.student_id in missed) == (verdict is Eligibility.ELIGIBLE and not completed), (
                student
            )


async def test_closing__non_full_time_students_miss_only_registration_rounds(
    checkin: RunningCheckin, area: Area
) -> None:
    part_time = await seed_area_student(checkin, area, study_form="part_time")
    verification = await seed_future_round(checkin, area, starts_at=day_round_start(11))
    # A registration round of the area (seeded; the API's is province-wide, one per term).
    registration = await seed_future_round(
        checkin, area, starts_at=day_round_start(12), kind="registration", term=f"t-{uuid.uuid4().hex[:12]}"
    )
    await close_round(checkin, verification)
    await close_round(checkin, registration)
    assert part_time.student_id not in await misses_of(checkin, verification)
    assert part_time.student_id in await misses_of(checkin, registration)


async def test_miss_rules__two_consecutive_misses_prompt_once(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    came = await seed_area_student(checkin, area)
    rounds = [await seed_future_round(checkin, area, starts_at=day_round_start(n)) for n in (2, 3, 4)]
    for row in rounds:
        await record_check_in(checkin, row.id, came, "normal", received_at=row.starts_at)

    await close_round(checkin, rounds[0])
    assert await prompts_of(checkin, student) == []
    await close_round(checkin, rounds[1])
    prompts = await prompts_of(checkin, student)
    assert [(p.rule, p.round_ids, p.state) for p in prompts] == [
        ("two_consecutive", [str(rounds[0].id), str(rounds[1].id)], "open")
    ]
    events = await events_about(checkin, "checkin.misses.threshold_reached", "student_id", student.student_id)
    assert events == [
        {
            "prompt_id": str(prompts[0].id),
            "student_id": student.student_id,
            "school_code": area.school,
            "term": "2031-spring",
            "rule": "two_consecutive",
            "missed_round_ids": [str(rounds[0].id), str(rounds[1].id)],
        }
    ]
    # A third consecutive miss is not prompted again; the one who came has nothing.
    await close_round(checkin, rounds[2])
    assert len(await prompts_of(checkin, student)) == 1
    assert await prompts_of(checkin, came) == []


async def test_miss_rules__four_cumulative_misses_prompt(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    rounds = [await seed_future_round(checkin, area, starts_at=day_round_start(n)) for n in range(2, 9)]
    for i, row in enumerate(rounds):
        if i % 2:  # misses on rounds 0, 2, 4, 6: never two in a row
            await record_check_in(checkin, row.id, student, "normal", received_at=row.starts_at)
        await close_round(checkin, row)
        if i < 6:
            assert await prompts_of(checkin, student) == [], i
    prompts = await prompts_of(checkin, student)
    assert [(p.rule, p.round_ids) for p in prompts] == [
        ("four_cumulative", [str(rounds[i].id) for i in (0, 2, 4, 6)])
    ]
    assert (
        len(await events_about(checkin, "checkin.misses.threshold_reached", "student_id", student.student_id))
        == 1
    )


async def test_miss_rules__rounds_exempt_by_leave_are_not_in_the_sequence(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    rounds = [await seed_future_round(checkin, area, starts_at=day_round_start(n)) for n in (20, 21, 22)]
    await seed_leave(checkin, student, date(2031, 3, 21), date(2031, 3, 21))
    for row in rounds:
        await close_round(checkin, row)
    assert student.student_id not in await misses_of(checkin, rounds[1])
    prompts = await prompts_of(checkin, student)
    assert [(p.rule, p.round_ids) for p in prompts] == [
        ("two_consecutive", [str(rounds[0].id), str(rounds[2].id)])
    ]


async def test_miss_rules__misses_of_another_term_do_not_count(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    spring = await seed_future_round(checkin, area, starts_at=datetime(2031, 7, 30, 1, tzinfo=UTC))
    autumn = await seed_future_round(checkin, area, starts_at=datetime(2031, 8, 30, 1, tzinfo=UTC))
    assert (spring.term, autumn.term) == ("2031-spring", "2031-autumn")
    await close_round(checkin, spring)
    await close_round(checkin, autumn)
    assert await prompts_of(checkin, student) == []


async def test_closing__a_hundred_thousand_students_in_one_statement(
    checkin: RunningCheckin, area: Area
) -> None:
    """Set-wise: 100,000 students of one school, a tenth of them checked in; closing records the
    90,000 misses in one INSERT … SELECT (printed, never asserted: the time)."""
    students = 100_000
    school = area.school
    async with checkin.ctx.sessionmaker() as session:
        await session.execute(
            text(
                """
                INSERT INTO student_view (student_id, student_number, name, id_number_masked, province_code,
                    city_code, county_code, school_code, school_name, class_id, grade, major_code,
                    study_length, study_form, status)
                SELECT :prefix || n, 'L' || n, '学生' || n, '4101**********0000', '41', :city, :county,
                       :school, '规模测试学校', NULL, 2024, NULL, 3, 'full_time', 'in_school'
                FROM generate_series(1, :n) AS n
                """
            ),
            {
                "prefix": f"{school}-",
                "city": area.city,
                "county": area.county,
                "school": school,
                "n": students,
            },
        )
        await session.commit()
    row = await seed_future_round(checkin, area, scope_level="school", starts_at=day_round_start(25))
    try:
        async with checkin.ctx.sessionmaker() as session:
            # A tenth checked in (normal): the counting attempt of each, in two statements.
            await session.execute(
                text(
                    """
                    INSERT INTO check_in (id, round_id, student_id, school_code, received_at, latitude,
                        longitude, accuracy_m, crs, device_id, emulator, mock_location, rooted,
                        selfie_sha256, face_required, state, result, reasons)
                    SELECT gen_random_uuid(), :round, :prefix || n, :school, :at, 34.7, 113.6, 10, 'WGS-84',
                           'd' || n, false, false, false, md5(n::text), false, 'decided', 'normal', '[]'
                    FROM generate_series(1, :n, 10) AS n
                    """
                ),
                {
                    "round": row.id,
                    "prefix": f"{school}-",
                    "school": school,
                    "at": row.starts_at,
                    "n": students,
                },
            )
            await session.execute(
                text(
                    """
                    INSERT INTO round_attendance (round_id, student_id, school_code,
                        current_check_in_id, result, final, attempts, updated_at)
                    SELECT round_id, student_id, school_code, id, result, true, 1, received_at
                    FROM check_in WHERE round_id = :round
                    """
                ),
                {"round": row.id},
            )
            await session.commit()
        started = time.perf_counter()
        await close_round(checkin, row)
        print(f"\nclosing a round of {students:,} students took {time.perf_counter() - started:.2f} s")
        async with checkin.ctx.sessionmaker() as session:
            missed = await session.scalar(
                select(func.count()).select_from(Miss).where(Miss.round_id == row.id)
            )
        assert missed == students - students // 10
        closed = await events_about(checkin, "checkin.round.closed", "round_id", str(row.id))
        assert closed == [
            {"round_id": str(row.id), "eligible": students, "completed": students // 10, "missed": missed}
        ]
    finally:
        # The session's database is shared: leave no hundred thousand students to other tests.
        async with checkin.ctx.sessionmaker() as session:
            await session.execute(delete(Miss).where(Miss.school_code == school))
            await session.execute(text("DELETE FROM round_attendance WHERE round_id = :r"), {"r": row.id})
            await session.execute(text("DELETE FROM check_in WHERE round_id = :r"), {"r": row.id})
            await session.execute(delete(StudentView).where(StudentView.school_code == school))
            await session.commit()
