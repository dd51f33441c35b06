"""The round clock: rounds open, are warned about and close by themselves, each move once with
its event, also with two clocks at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.checkin.domain.round_lifecycle import RoundAction
from services.checkin.models import Round
from services.checkin.round_clock import CLOCK_KEY, RoundClock, advance_rounds
from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    events_about,
    misses_of,
    record_check_in,
    seed_area_student,
    seed_future_round,
)
from shared.testing import eventually


async def state_of(checkin: RunningCheckin, round_row: Round) -> Round:
    async with checkin.ctx.sessionmaker() as session:
        row = await session.scalar(select(Round).where(Round.id == round_row.id))
        assert row is not None
        return row


async def test_advance_rounds__opens_warns_once_and_closes_on_time(
    checkin: RunningCheckin, area: Area
) -> None:
    row = await seed_future_round(checkin, area, hours=8)
    ids = [row.id]
    lead = timedelta(minutes=checkin.settings.round_closing_lead_minutes)

    assert await advance_rounds(checkin.ctx, row.starts_at - timedelta(seconds=1), round_ids=ids) == []
    opened = await advance_rounds(checkin.ctx, row.starts_at, round_ids=ids)
    assert [m.action for m in opened] == [RoundAction.OPEN]
    assert (await state_of(checkin, row)).state == "open"
    assert await advance_rounds(checkin.ctx, row.ends_at - lead - timedelta(seconds=1), round_ids=ids) == []

    warned = await advance_rounds(checkin.ctx, row.ends_at - lead, round_ids=ids)
    assert [m.action for m in warned] == [RoundAction.WARN_CLOSING]
    assert await advance_rounds(checkin.ctx, row.ends_at - timedelta(minutes=1), round_ids=ids) == []

    closed = await advance_rounds(checkin.ctx, row.ends_at, round_ids=ids)
    assert [m.action for m in closed] == [RoundAction.CLOSE]
    assert (await state_of(checkin, row)).state == "closed"
    assert await advance_rounds(checkin.ctx, row.ends_at + timedelta(days=9), round_ids=ids) == []

    key = str(row.id)
    opened_events = await events_about(checkin, "checkin.round.opened", "round_id", key)
    closing_events = await events_about(checkin, "checkin.round.closing", "round_id", key)
    closed_events = await events_about(checkin, "checkin.round.closed", "round_id", key)
    assert len(opened_events) == len(closing_events) == len(closed_events) == 1
    notice = opened_events[0]
    assert (notice["scope_level"], notice["scope_code"], notice["grades"]) == (
        "county",
        area.county,
        [2024, 2025],
    )
    assert notice["audience"] == ["students", "counselors", "school_registrars"]
    assert notice["term"] == "2031-spring"


async def test_advance_rounds__two_clocks_at_once_move_each_round_once(
    checkin: RunningCheckin, area: Area
) -> None:
    for _ in range(3):
        await seed_area_student(checkin, area)
    rounds = [
        await seed_future_round(checkin, area, starts_at=datetime(2031, 3, 2 + i, 1, tzinfo=UTC))
        for i in range(4)
    ]
    ids = [r.id for r in rounds]
    moments = (
        [r.starts_at for r in rounds]
        + [r.ends_at - timedelta(minutes=30) for r in rounds]
        + [rounds[-1].ends_at]
    )
    for now in sorted(moments):
        # Two processes' clocks look at the same moment; each on its own connections.
        await asyncio.gather(*(advance_rounds(checkin.ctx, now, round_ids=ids) for _ in range(2)))
    for row in rounds:
        assert (await state_of(checkin, row)).state == "closed"
        for event_type in ("checkin.round.opened", "checkin.round.closing", "checkin.round.closed"):
            assert len(await events_about(checkin, event_type, "round_id", str(row.id))) == 1, event_type
        assert len(await misses_of(checkin, row)) == 3


async def test_advance_rounds__a_round_found_overdue_opens_then_closes_without_a_late_notice(
    checkin: RunningCheckin, area: Area
) -> None:
    row = await seed_future_round(checkin, area)
    moved = await advance_rounds(checkin.ctx, row.ends_at + timedelta(hours=5), round_ids=[row.id])
    assert [m.action for m in moved] == [RoundAction.OPEN, RoundAction.CLOSE]
    assert await events_about(checkin, "checkin.round.closing", "round_id", str(row.id)) == []


async def test_advance_rounds__closing_waits_for_face_results_of_attempts_made_in_time(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    row = await seed_future_round(checkin, area)
    ids = [row.id]
    await advance_rounds(checkin.ctx, row.starts_at, round_ids=ids)
    await record_check_in(checkin, row.id, student, None, received_at=row.starts_at + timedelta(hours=1))
    settle = timedelta(minutes=checkin.settings.round_settle_minutes)

    assert [m.action for m in await advance_rounds(checkin.ctx, row.ends_at, round_ids=ids)] == []
    assert (await state_of(checkin, row)).state == "open"
    # The face result arrives: normal. Now the round closes, and the student did not miss it.
    await record_check_in(checkin, row.id, student, "normal", received_at=row.starts_at + timedelta(hours=1))
    assert [m.action for m in await advance_rounds(checkin.ctx, row.ends_at, round_ids=ids)] == [
        RoundAction.CLOSE
    ]
    assert await misses_of(checkin, row) == {}

    # Another round whose face result never comes closes once the settling time is over.
    late = await seed_future_round(checkin, area, starts_at=row.ends_at + timedelta(hours=1))
    await advance_rounds(checkin.ctx, late.starts_at, round_ids=[late.id])
    await record_check_in(checkin, late.id, student, None, received_at=late.starts_at)
    assert (
        await advance_rounds(checkin.ctx, late.ends_at + settle - timedelta(seconds=1), round_ids=[late.id])
        == []
    )
    assert [
        m.action for m in await advance_rounds(checkin.ctx, late.ends_at + settle, round_ids=[late.id])
    ] == [RoundAction.CLOSE]
    assert await misses_of(checkin, late) == {student.student_id: False}


async def test_round_clock__runs_in_the_background_and_stops_cleanly(
    checkin: RunningCheckin, area: Area
) -> None:
    running = checkin.ctx.extras[CLOCK_KEY]
    assert isinstance(running, RoundClock) and running.running
    # A round that started a moment ago (real time) is opened by the service's own clock.
    now = datetime.now(UTC)
    row = await seed_future_round(checkin, area, starts_at=now - timedelta(seconds=1), hours=100)

    async def opened() -> bool:
        return (await state_of(checkin, row)).state == "open"

    await eventually(opened, within=3 * checkin.settings.round_clock_seconds + 10)
    # A second clock (another process's, say) starts and stops without disturbing the first.
    other = RoundClock(checkin.ctx)
    other.start()
    assert other.running
    await other.stop()
    assert not other.running and running.running
