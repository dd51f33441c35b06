"""The province's working-day calendar as a table (DESIGN.md "Time").

Every service that counts deadlines keeps the table in its own database (its migration calls
``create_calendar_table``), seeds it at start from the ``chinesecalendar`` package for the years
the package covers, and loads it into a ``WorkdayCalendar`` value that the pure rules take as an
argument. When the State Council publishes the next year's schedule, an administrator imports it
(``import_days``); a year counts as confirmed once all its days are in the table, confirmed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from alembic.operations import Operations
from sqlalchemy import Boolean, Date, DateTime, String, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.workdays import CalendarDay, DayKind, WorkdayCalendar, days_from_chinesecalendar


class CalendarBase(DeclarativeBase):
    pass


class WorkdayCalendarDay(CalendarBase):
    __tablename__ = "workday_calendar"

    on: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(80))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def create_calendar_table(op: Operations) -> None:
    CalendarBase.metadata.create_all(op.get_bind())


def drop_calendar_table(op: Operations) -> None:
    CalendarBase.metadata.drop_all(op.get_bind())


def _row(day: CalendarDay) -> dict[str, object]:
    return {
        "on": day.on,
        "is_workday": day.is_workday,
        "kind": day.kind.value,
        "name": day.name,
        "source": day.source,
        "confirmed": day.confirmed,
    }


async def seed_from_package(session: AsyncSession, years: Iterable[int]) -> int:
    """Add the package's days for ``years`` where the table has none; never overwrites what an
    administrator imported. Returns the number of rows added."""
    rows = [_row(day) for day in days_from_chinesecalendar(years)]
    if not rows:
        return 0
    result = await session.execute(
        insert(WorkdayCalendarDay).values(rows).on_conflict_do_nothing().returning(WorkdayCalendarDay.on)
    )
    return len(result.all())


async def import_days(session: AsyncSession, days: Iterable[CalendarDay]) -> int:
    """An administrator's import of a published schedule: replaces the rows for those dates."""
    rows = [_row(day) for day in days]
    if not rows:
        return 0
    statement = insert(WorkdayCalendarDay).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["on"],
            set_={k: statement.excluded[k] for k in ("is_workday", "kind", "name", "source", "confirmed")}
            | {"loaded_at": func.now()},
        )
    )
    return len(rows)


async def load_calendar(session: AsyncSession) -> WorkdayCalendar:
    stored = (await session.scalars(select(WorkdayCalendarDay))).all()
    days = [
        CalendarDay(
            on=row.on,
            is_workday=row.is_workday,
            kind=DayKind(row.kind),
            name=row.name,
            source=row.source,
            confirmed=row.confirmed,
        )
        for row in stored
    ]
    confirmed_per_year = Counter(day.on.year for day in days if day.confirmed)
    complete = {
        year for year, count in confirmed_per_year.items() if count == (366 if _is_leap(year) else 365)
    }
    return WorkdayCalendar([d for d in days if d.on.year in complete], complete)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


async def ensure_calendar(session: AsyncSession, today: date) -> WorkdayCalendar:
    """At a service's start: add the package's days around ``today`` (last year to next year)
    where missing, then load the table. The caller keeps the value for its rules."""
    await seed_from_package(session, range(today.year - 1, today.year + 2))
    await session.commit()
    return await load_calendar(session)
