"""Duplicate check (查重) of ID numbers, inside the province and across provinces.

Inside the province the student table's unique index on the active ID number decides. Across
provinces only keyed hashes travel (DESIGN.md "Cross-cutting"): HMAC-SHA256 under a key every
province shares, of the ID type and the normalised number (shared/id_digest.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.registration import formal_student_number
from services.enrollment.domain.student_state import RELEASED_STATES
from services.enrollment.models import Student

_RELEASED = [s.value for s in RELEASED_STATES]


async def registered_here(session: AsyncSession, id_numbers: Iterable[str]) -> set[str]:
    """Which of these normalised ID numbers already study in this province, or were given a
    formal number here that a released record still carries."""
    numbers = list(id_numbers)
    if not numbers:
        return set()
    formal = {formal_student_number(n): n for n in numbers}
    rows = await session.execute(
        select(Student.id_number, Student.student_number).where(
            or_(
                Student.student_number.in_(list(formal)),
                Student.id_number.in_(numbers) & Student.status.not_in(_RELEASED),
            )
        )
    )
    found: set[str] = set()
    for id_number, student_number in rows:
        if id_number in numbers:
            found.add(id_number)
        if student_number in formal:
            found.add(formal[student_number])
    return found


async def active_student_by_digest(session: AsyncSession, digest: str) -> Student | None:
    student: Student | None = await session.scalar(
        select(Student).where(Student.id_digest == digest, Student.status.not_in(_RELEASED)).limit(1)
    )
    return student
