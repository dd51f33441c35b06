"""A student's ID number changed after registration — by an approved key-data change or by a
problem record resolved with 变更 — so the checks registration made are made again for the new
number (DOMAIN.md "Student record": pass → formal number "G" + ID, fail → temporary number and a
problem record; "a new ID re-runs dedupe"): the identity check, a new keyed digest, and the
digest announced to partner provinces for their duplicate check.

One function for both paths, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from services.enrollment.dedupe import id_digest
from services.enrollment.domain.registration import (
    FORMAL_NUMBER_PREFIX,
    formal_student_number,
    temporary_student_number,
)
from services.enrollment.models import Student
from services.enrollment.problems import open_problem_record
from services.enrollment.registering import RegistrationDeps
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import IdDigestAnnounced
from shared.problems import conflict


async def recheck_new_id(
    uow: UnitOfWork, student: Student, deps: RegistrationDeps, *, occasion_zh: str, on: date, field: str
) -> None:
    """Re-run the registration checks for ``student``'s (already written) new ID data, in ``uow``.

    ``occasion_zh`` names what changed the number, for the problem record a failure opens;
    ``field`` is the request field that carried the number, for a refusal.
    Raises ``Problem`` (409) if the formal number the new ID earns is held by another record —
    a record released to another province keeps its number, and the unique index would
    otherwise refuse it at commit as a 500.
    """
    if student.id_type == "resident_id" and student.id_number is not None:
        verdict = await deps.registry.check(student.name, student.id_number)
        if verdict.passed:
            number = formal_student_number(student.id_number)
            holder = await uow.session.scalar(select(Student.id).where(Student.student_number == number))
            if holder is not None and holder != student.id:
                raise conflict(
                    f"{field}: the formal number of this ID is held by another record", slug="number-taken"
                )
            student.student_number = number
        else:
            if student.student_number.startswith(FORMAL_NUMBER_PREFIX):
                student.student_number = temporary_student_number(student.id)
            await uow.session.flush()  # the problem record's insert reads the student's row
            await open_problem_record(
                uow.session,
                kind="identity_check_failed",
                student=student,
                detail=f"{verdict.reason_zh}（{occasion_zh}）",
                acting_side="here",
                today=on,
                calendar=deps.calendar,
            )
    elif student.student_number.startswith(FORMAL_NUMBER_PREFIX):
        student.student_number = temporary_student_number(student.id)  # a G number embeds the old ID
    # The old digest no longer describes this student: replace it (or drop it without a key).
    student.id_digest = None
    if deps.digest_key is not None and student.id_number is not None:
        student.id_digest = id_digest(deps.digest_key, student.id_type, student.id_number)
        now = datetime.now(UTC)
        for partner in deps.partners:
            uow.emit(
                IdDigestAnnounced(digest=student.id_digest, student_id=student.id, registered_at=now),
                subject=student.id,
                to_province=partner,
            )
