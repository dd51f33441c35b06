"""The yearly snapshot of every school's in-school count (FM8, DOMAIN.md "Oversight"; seed 004
负面清单 FM8 "在校生连续两年不能达到240人"): the records hold today's roll only, so once a year —
at the autumn filing deadline (domain/negative_list.SNAPSHOT_MONTH_DAY) — the count of each
school is kept, and FM8 compares the last two.

``record_in_school_snapshot`` writes one year's row per school, once (a second call for the same
year changes nothing, from any number of processes); the review sweeper calls
``record_due_snapshot`` every round, so a snapshot is taken even when nobody asks for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.negative_list import ON_ROLL_STATES, snapshot_year_due
from services.enrollment.models import School, Student
from services.enrollment.models.indicators import InSchoolSnapshot


async def record_in_school_snapshot(session: AsyncSession, *, year: int, taken_on: date) -> int:
    """Keep ``year``'s in-school count of every school (0 for a school with nobody on the roll)
    unless that year is kept already; returns how many schools were recorded now. Not committed."""
    on_roll = and_(Student.school_code == School.code, Student.status.in_([s.value for s in ON_ROLL_STATES]))
    counts = (
        select(School.code, literal(year), func.count(Student.id), literal(taken_on))
        .select_from(School)
        .outerjoin(Student, on_roll)
        .group_by(School.code)
    )
    result = await session.execute(
        insert(InSchoolSnapshot)
        .from_select(["school_code", "year", "count", "taken_on"], counts)
        .on_conflict_do_nothing(index_elements=["school_code", "year"])
        .returning(InSchoolSnapshot.school_code)
    )
    return len(result.all())


async def record_due_snapshot(session: AsyncSession, today: date) -> int:
    """The snapshot due by ``today`` (this year's from 20 December), if not taken yet."""
    return await record_in_school_snapshot(session, year=snapshot_year_due(today), taken_on=today)


async def last_two_snapshots(session: AsyncSession, school_codes: Sequence[str]) -> dict[str, dict[int, int]]:
    """School → {year: in-school count} of its two latest snapshots, newest first."""
    latest = (
        select(
            InSchoolSnapshot.school_code,
            InSchoolSnapshot.year,
            InSchoolSnapshot.count,
            func.row_number()
            .over(partition_by=InSchoolSnapshot.school_code, order_by=InSchoolSnapshot.year.desc())
            .label("rank"),
        )
        .where(InSchoolSnapshot.school_code.in_(school_codes))
        .subquery()
    )
    rows = await session.execute(
        select(latest.c.school_code, latest.c.year, latest.c.count)
        .where(latest.c.rank <= 2)
        .order_by(latest.c.school_code, latest.c.year.desc())
    )
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for code, year, count in rows.tuples():
        found[code][year] = count
    return found
