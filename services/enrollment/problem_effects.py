"""What a problem record's outcome does to the student record itself (seed 002 问题学籍变更/删除,
DOMAIN.md "Student record": a passed identity check gives the formal number "G" + ID).

Each function changes the record in the caller's unit of work and adds a history line; a
refusal raises ``Problem`` before anything is written. A school's change or delete takes effect
only when its review is approved (api/problems.py); the ``check_*`` functions are the refusals,
run when the school submits and again at each approval.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.registration import formal_student_number
from services.enrollment.domain.student_state import RELEASED_STATES, StudentState
from services.enrollment.identity_recheck import IdentityChecks, recheck_new_id
from services.enrollment.models import Student, StudentHistory
from services.enrollment.registering import RegistrationDeps
from shared.bus.unit_of_work import UnitOfWork
from shared.idnumber import InvalidIdNumber, ResidentId, parse_resident_id
from shared.problems import Problem, conflict, field_problem


def _history(student: Student, province: str, action: str, detail: str) -> StudentHistory:
    return StudentHistory(
        student_id=student.id, at=datetime.now(UTC), province=province, action=action, detail=detail
    )


async def check_new_id_number(session: AsyncSession, student: Student, new_id_number: str) -> ResidentId:
    """变更's refusals, before anything is written (at submission and again at each approval):
    the record is not frozen, the number passes the check digit, differs from the current one
    and is not registered here already (查重)."""
    if student.frozen:
        raise conflict("the student's record is frozen (moved to another province)", slug="record-frozen")
    try:
        resident = parse_resident_id(new_id_number)
    except InvalidIdNumber as exc:
        raise field_problem("new_id_number", exc.message_en, exc.message_zh) from None
    if resident.number == student.id_number:
        raise field_problem(
            "new_id_number",
            "the new ID number is the same as the current one: choose evidence instead",
            "变更后的身份证件号与原号码相同，如号码无误请选择佐证",
        )
    taken = await session.scalar(
        select(Student.id).where(
            Student.id != student.id,
            Student.id_number == resident.number,
            Student.status.not_in([s.value for s in RELEASED_STATES]),
        )
    )
    if taken is not None:
        raise Problem(
            409,
            "Already registered",
            title_zh="该身份证号已在本省注册学籍",
            slug="already-registered",
            detail="new_id_number: a student with this ID number is already registered in this province",
        )
    return resident


def check_delete(student: Student) -> None:
    """删除's refusal: a record that moved to another province is no longer ours to cancel."""
    if student.frozen:
        raise conflict("the student's record is frozen (moved to another province)", slug="record-frozen")


async def change_id_number(
    uow: UnitOfWork,
    student: Student,
    new_id_number: str,
    deps: RegistrationDeps,
    on: date,
    checks: IdentityChecks,
) -> None:
    """变更: the school corrects the resident ID. Sex and birth date follow the new number. The
    number must pass ``check_new_id_number``; then the identity check decides the student number
    (``identity_recheck``, its verdict fetched outside the transaction: ``checks``)."""
    resident = await check_new_id_number(uow.session, student, new_id_number)
    student.id_number = resident.number
    student.id_type = "resident_id"
    student.sex, student.birth_date = resident.sex, resident.birth_date
    # The new number goes through the checks a key-data change makes (DOMAIN.md: "a new ID
    # re-runs dedupe"): identity check → formal or temporary number, new digest, announced.
    await recheck_new_id(
        uow, student, deps, checks, occasion_zh="问题学籍变更后", on=on, field="new_id_number"
    )
    uow.session.add(_history(student, deps.province, "problem_changed", "问题学籍处理：变更身份证件号"))


async def delete_record(session: AsyncSession, student: Student, province: str) -> None:
    """删除: the duplicate record is cancelled (注销) and frozen; its history stays readable."""
    check_delete(student)
    student.status = StudentState.DEREGISTERED.value
    student.frozen = True
    session.add(_history(student, province, "problem_deleted", "问题学籍处理：删除学籍"))


async def grant_formal_number(session: AsyncSession, student: Student, province: str) -> None:
    """The county confirmed the identity: the temporary number becomes "G" + ID."""
    if student.id_number is None or student.id_type != "resident_id":
        raise conflict("only a resident-ID student can receive a formal number", slug="no-resident-id")
    number = formal_student_number(student.id_number)
    holder = await session.scalar(select(Student.id).where(Student.student_number == number))
    if holder is not None and holder != student.id:
        raise conflict("the formal number for this ID is already held by another record", slug="number-taken")
    student.student_number = number
    session.add(_history(student, province, "identity_confirmed", "身份核验问题学籍确认：分配正式学籍号"))
