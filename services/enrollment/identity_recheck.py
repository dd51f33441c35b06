"""A student's ID number changed after registration — by an approved key-data change or by a
problem record resolved with 变更 — so the checks registration made are made again for the new
number (DOMAIN.md "Student record": pass → formal number "G" + ID, fail → temporary number and a
problem record; "a new ID re-runs dedupe"): the identity check, a new keyed digest, and the
digest announced to partner provinces for their duplicate check.

One function for both paths, so the two cannot drift apart.

The registry is outside the process and may be slow, and both paths run where a row lock is held
(the review item, the student). So the call is never made inside that transaction: the
transaction that finds it needs a verdict it has not got raises ``NeedsIdentityCheck`` and rolls
back (locks released); ``with_identity_checks`` asks the registry, then runs the whole unit of
work again with the verdict in hand. The retry re-reads and re-checks everything under its locks,
and only the attempt that commits has effects: exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy import select

from services.enrollment.domain.registration import (
    FORMAL_NUMBER_PREFIX,
    formal_student_number,
    temporary_student_number,
)
from services.enrollment.identity_check import IdentityVerdict, PopulationRegistry
from services.enrollment.models import Student
from services.enrollment.problems import open_problem_record
from services.enrollment.registering import RegistrationDeps
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import IdDigestAnnounced
from shared.id_digest import id_digest
from shared.problems import Problem, conflict

T = TypeVar("T")
MAX_ATTEMPTS = 3  # a record whose name/ID keeps changing under us is refused, not chased forever


class NeedsIdentityCheck(Exception):
    """Raised inside a unit of work that needs a registry verdict it was not given: the unit of
    work rolls back, the caller fetches the verdict outside it and runs it again."""

    def __init__(self, name: str, id_number: str) -> None:
        super().__init__("an identity check is needed before this change can be applied")
        self.name = name
        self.id_number = id_number


@dataclass
class IdentityChecks:
    """Registry verdicts fetched before the transaction that uses them, by (name, ID number)."""

    verdicts: dict[tuple[str, str], IdentityVerdict] = field(default_factory=dict)

    def verdict_for(self, name: str, id_number: str) -> IdentityVerdict:
        try:
            return self.verdicts[(name, id_number)]
        except KeyError:
            raise NeedsIdentityCheck(name, id_number) from None

    async def fetch(self, registry: PopulationRegistry, wanted: NeedsIdentityCheck) -> None:
        verdict = await registry.check(wanted.name, wanted.id_number)
        self.verdicts[(wanted.name, wanted.id_number)] = verdict


async def with_identity_checks(
    registry: PopulationRegistry, work: Callable[[IdentityChecks], Awaitable[T]]
) -> T:
    """Run ``work`` (one whole unit of work, opened and committed inside it) with the verdicts it
    asks for fetched between attempts, never while its transaction is open."""
    checks = IdentityChecks()
    for _ in range(MAX_ATTEMPTS):
        try:
            return await work(checks)
        except NeedsIdentityCheck as wanted:
            # ``work``'s unit of work has exited on the exception: rolled back, locks released.
            await checks.fetch(registry, wanted)
    raise Problem(
        409,
        "Conflict",
        title_zh="学生信息在核验期间多次变化，请重试",
        slug="identity-check-raced",
        detail="the record's name or ID number kept changing while it was being checked; try again",
    )


async def recheck_new_id(
    uow: UnitOfWork,
    student: Student,
    deps: RegistrationDeps,
    checks: IdentityChecks,
    *,
    occasion_zh: str,
    on: date,
    field: str,
) -> None:
    """Re-run the registration checks for ``student``'s (already written) new ID data, in ``uow``.

    ``occasion_zh`` names what changed the number, for the problem record a failure opens;
    ``field`` is the request field that carried the number, for a refusal.
    ``checks`` holds the registry's verdicts fetched outside the transaction; one it lacks raises
    ``NeedsIdentityCheck`` (run the unit of work under ``with_identity_checks``).
    Raises ``Problem`` (409) if the formal number the new ID earns is held by another record —
    a record released to another province keeps its number, and the unique index would
    otherwise refuse it at commit as a 500.
    """
    if student.id_type == "resident_id" and student.id_number is not None:
        verdict = checks.verdict_for(student.name, student.id_number)
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
