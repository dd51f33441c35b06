"""Opening problem records: the one entry point every check that finds a problem calls."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.models import Student
from services.enrollment.models.problems import ProblemRecord
from shared.workdays import WorkdayCalendar

RESOLUTION_WORKDAYS = 10  # DOMAIN.md: duplicate resolution within 10 working days


async def open_problem_record(
    session: AsyncSession,
    *,
    kind: str,
    student: Student,
    detail: str,
    acting_side: str,
    today: date,
    calendar: WorkdayCalendar,
    counterpart_student_id: str | None = None,
    counterpart_province: str | None = None,
    counterpart_ref: str | None = None,
    id_digest: str | None = None,
) -> str | None:
    """Open a problem record unless the same one is already open; returns its id if opened."""
    deadline = calendar.add_workdays(today, RESOLUTION_WORKDAYS)
    result = await session.execute(
        insert(ProblemRecord)
        .values(
            id=str(uuid7()),
            kind=kind,
            status="open",
            student_id=student.id,
            province_code=student.province_code,
            city_code=student.city_code,
            county_code=student.county_code,
            school_code=student.school_code,
            counterpart_student_id=counterpart_student_id,
            counterpart_province=counterpart_province,
            counterpart_ref=counterpart_ref,
            id_digest=id_digest,
            acting_side=acting_side,
            detail=detail,
            due_on=deadline.due_on,
            due_provisional=deadline.provisional,
        )
        .on_conflict_do_nothing()
        .returning(ProblemRecord.id)
    )
    return result.scalar_one_or_none()
