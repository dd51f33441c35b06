"""A graduation list written straight into the tables as the review leaves it (approved, or any
state a test names), for tests about what comes after the review: issuing, printing."""

from __future__ import annotations

from collections.abc import Sequence

from services.certificates.models import GraduationEntry, GraduationList
from services.certificates.tests.integration.conftest import PROVINCE, SCHOOL_NAME, Area, RunningCertificates
from shared.events.common import StudentSummary


async def approved_list(
    running: RunningCertificates,
    area: Area,
    students: Sequence[StudentSummary],
    *,
    outcomes: Sequence[str] | None = None,
    state: str = "approved",
    year: int = 2027,
) -> str:
    """The list's id; each student is listed with ``outcomes[n]``, or as graduated."""
    async with running.ctx.sessionmaker() as session:
        graduation_list = GraduationList(
            province=PROVINCE,
            city=area.city,
            county=area.county,
            school_code=area.school,
            school_name=SCHOOL_NAME,
            graduating_year=year,
            state=state,
            levels=["county", "city"],
            level_index=2,
            submitted_by="registrar",
        )
        session.add(graduation_list)
        await session.flush()
        for n, student in enumerate(students):
            session.add(
                GraduationEntry(
                    list_id=graduation_list.id,
                    student_id=student.student_id,
                    outcome=outcomes[n] if outcomes else "graduated",
                    state="listed",
                )
            )
        await session.commit()
        return graduation_list.id
