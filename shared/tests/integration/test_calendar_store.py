"""The working-day calendar table: seeded from the package, loaded as a value, extended by import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.calendar_store import (
    CalendarBase,
    WorkdayCalendarDay,
    import_days,
    load_calendar,
    seed_from_package,
)
from shared.db import make_engine, make_sessionmaker
from shared.testing import temporary_database
from shared.workdays import CalendarDay, DayKind

pytestmark = pytest.mark.integration


@pytest.fixture
async def calendar_db() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    with temporary_database() as url:
        sync = create_engine(url.replace("+asyncpg", "+psycopg"))
        CalendarBase.metadata.create_all(sync)
        sync.dispose()
        engine = make_engine(url, pool_size=2)
        try:
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


def _plain_year(year: int) -> list[CalendarDay]:
    """A schedule as an administrator would import it; here Monday–Friday with New Year off."""
    days = []
    d = date(year, 1, 1)
    while d.year == year:
        weekend = d.weekday() >= 5
        if d == date(year, 1, 1):
            day = CalendarDay(d, False, DayKind.HOLIDAY, "元旦", "国办发明电〔2026〕1号", True)
        else:
            kind = DayKind.WEEKEND if weekend else DayKind.WORKDAY
            day = CalendarDay(d, not weekend, kind, None, "国办发明电〔2026〕1号", True)
        days.append(day)
        d += timedelta(days=1)
    return days


async def test_calendar_store__seed_load_and_extend(calendar_db: async_sessionmaker[AsyncSession]) -> None:
    async with calendar_db() as session, session.begin():
        added = await seed_from_package(session, [2025, 2026, 2027])
    assert added == 365 + 365  # the package has no 2027
    async with calendar_db() as session, session.begin():
        assert await seed_from_package(session, [2025, 2026]) == 0  # idempotent

    async with calendar_db() as session:
        calendar = await load_calendar(session)
    assert calendar.confirmed_years == frozenset({2025, 2026})
    assert not calendar.is_workday(date(2025, 10, 1))  # National Day
    assert calendar.is_workday(date(2025, 9, 28))  # an adjusted working Sunday
    crossing = calendar.add_workdays(date(2026, 12, 24), 10)
    assert crossing.provisional and crossing.unconfirmed_years == frozenset({2027})

    async with calendar_db() as session, session.begin():
        await import_days(session, _plain_year(2027))
    async with calendar_db() as session:
        calendar = await load_calendar(session)
        stored = await session.scalar(select(func.count()).select_from(WorkdayCalendarDay))
    assert stored == 365 * 3
    recomputed = calendar.add_workdays(date(2026, 12, 24), 10)
    assert not recomputed.provisional
    assert not calendar.is_workday(date(2027, 1, 1))
    assert recomputed.due_on != crossing.due_on  # New Year's Day 2027 now counts as a holiday
