"""FM8's "fewer than 240 in school two years running" is judged on the yearly snapshots of each
school's roll (in_school_snapshots.py), not on today's roll; the sweeper takes the snapshot
when it falls due (20 December), once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from services.enrollment.in_school_snapshots import record_in_school_snapshot
from services.enrollment.models.indicators import InSchoolSnapshot
from services.enrollment.overdue_reviews import SWEEPER_KEY, ReviewSweeper
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.test_indicators_api import _school, _students
from services.enrollment.tests.integration.test_workflow_api import pinned_today
from shared.auth import Role
from shared.testing import eventually

YEAR = 2025  # intakes of 100 a year: FM8's intake half is never broken here


async def _snapshot(p: Province, year: int) -> int:
    async with p.ctx.sessionmaker() as session:
        taken = await record_in_school_snapshot(session, year=year, taken_on=date(year, 12, 20))
        await session.commit()
    return taken


async def _grow(p: Province, school: str, n: int) -> None:
    async with p.ctx.sessionmaker() as session:
        session.add_all(_students(school, YEAR, n))
        await session.commit()


async def _fm8(p: Province, school: str) -> dict[str, Any]:
    response = await p.client.get(
        f"/api/v1/indicators?school={school}&year={YEAR}", headers=p.auth(Role.COUNTY)
    )
    assert response.status_code == 200, response.text
    fm8: dict[str, Any] = response.json()[0]["fm8"]
    return fm8


async def test_fm8__two_small_snapshots_break_it_whatever_today_s_roll(p41: Province) -> None:
    small = await _school(
        p41, students=[(YEAR, 100, "710201"), (YEAR - 1, 100, "710201")], qualified_years=[]
    )
    assert (await _fm8(p41, small))["broken"] is False  # no snapshots yet: today's 200 alone decides nothing
    await _snapshot(p41, 2091)
    await _snapshot(p41, 2092)
    await _grow(p41, small, 100)  # 300 in school today, after both snapshots were taken
    fm8 = await _fm8(p41, small)
    assert fm8["in_school"] == 300
    assert fm8["in_school_snapshots"] == {"2092": 200, "2091": 200}
    assert fm8["broken"] is True


async def test_fm8__one_year_at_240_is_not_two_years_running(p41: Province) -> None:
    school = await _school(
        p41, students=[(YEAR, 100, "710201"), (YEAR - 1, 100, "710201")], qualified_years=[]
    )
    await _snapshot(p41, 2093)
    await _grow(p41, school, 40)
    await _snapshot(p41, 2094)
    fm8 = await _fm8(p41, school)
    assert fm8["in_school_snapshots"] == {"2094": 240, "2093": 200}
    assert fm8["broken"] is False


async def test_snapshot__a_year_is_kept_once(p41: Province) -> None:
    school = await _school(p41, students=[(YEAR, 10, "710201")], qualified_years=[])
    assert await _snapshot(p41, 2095) > 0
    await _grow(p41, school, 5)
    assert await _snapshot(p41, 2095) == 0  # taken already: the first count stands
    async with p41.ctx.sessionmaker() as session:
        kept = await session.get(InSchoolSnapshot, (school, 2095))
    assert kept is not None and kept.count == 10


@pytest.fixture
async def quick_sweeper(p37: Province) -> AsyncIterator[ReviewSweeper]:
    sweeper = p37.ctx.extras[SWEEPER_KEY]
    assert isinstance(sweeper, ReviewSweeper)
    interval = sweeper.interval
    await sweeper.stop()
    sweeper.interval = 0.05
    sweeper.start()
    try:
        yield sweeper
    finally:
        await sweeper.stop()
        sweeper.interval = interval
        sweeper.start()


async def _years(p: Province) -> set[int]:
    async with p.ctx.sessionmaker() as session:
        return set(await session.scalars(select(InSchoolSnapshot.year).distinct()))


async def test_sweeper__takes_the_snapshot_when_it_falls_due(
    p37: Province, quick_sweeper: ReviewSweeper
) -> None:
    with pinned_today(p37, date(2097, 12, 19)):
        rounds = quick_sweeper.steps_done
        await eventually(lambda: _after(quick_sweeper, rounds + 2))
        assert 2097 not in await _years(p37)  # the day before: last year's is due, not this year's
        assert 2096 in await _years(p37)
    with pinned_today(p37, date(2097, 12, 20)):

        async def taken() -> bool:
            return 2097 in await _years(p37)

        await eventually(taken)


async def _after(sweeper: ReviewSweeper, rounds: int) -> bool:
    return sweeper.steps_done >= rounds
