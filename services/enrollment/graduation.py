"""Enrollment's side of graduation (issue 8): the certificates service's ``StudentGraduated`` and
``GraduationRolledBack`` change the record's status, add a history line and announce
``StudentStatusChanged`` in the same unit of work — identity follows that announcement (the
face template's retention clock starts at graduation; back in school cancels it).
domain/graduation.py decides; handlers.py subscribes.

A certificate for a record we do not hold, or that cannot graduate, raises: the consumer retries
and then dead-letters it with the reason, where an operator sees it (never dropped).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from opentelemetry import trace
from sqlalchemy import select

from services.enrollment.domain.graduation import (
    CertificateTrail,
    Move,
    Step,
    certificate_mark,
    graduation_detail,
    on_graduated,
    on_rolled_back,
    rollback_detail,
)
from services.enrollment.domain.student_state import StudentState, is_frozen
from services.enrollment.models import School, Student, StudentHistory
from services.enrollment.records import summary_of
from shared.bus.unit_of_work import UnitOfWork
from shared.events.certificates import GraduationRolledBack, StudentGraduated
from shared.events.enrollment import StudentStatusChanged
from shared.telemetry import ATTR_CHANGE_TYPE, ATTR_STUDENT_ID

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")

# History actions; the outcome rides in the graduation's so a rollback knows what it undoes.
GRADUATION_ACTION = "graduation"  # graduation:<outcome>
ROLLBACK_ACTION = "graduation_rollback"
CHANGE_GRADUATION = "graduation"
CHANGE_ROLLBACK = "graduation_rollback"


async def apply_graduation(uow: UnitOfWork, event: StudentGraduated) -> None:
    attributes = {ATTR_STUDENT_ID: event.student_id, ATTR_CHANGE_TYPE: CHANGE_GRADUATION}
    with tracer.start_as_current_span("apply graduation", attributes=attributes):
        student = await _locked_student(uow, event.student_id)
        trail = await _trail(uow, student.id, event.certificate_number)
        move = on_graduated(StudentState(student.status), event.outcome, trail)
        if move.step is Step.NOTHING or move.to is None:
            log.info("graduation of %s already recorded: nothing to do", student.id)
            return
        _check_school(student, event.lineage.school)
        detail = graduation_detail(
            move.to, event.certificate_number, event.graduated_on, event.graduation_list_id
        )
        await _change_status(
            uow,
            student,
            move,
            action=f"{GRADUATION_ACTION}:{event.outcome}",
            detail=detail,
            change_type=CHANGE_GRADUATION,
            review_id=event.graduation_list_id,
        )


async def roll_back_graduation(uow: UnitOfWork, event: GraduationRolledBack) -> None:
    attributes = {ATTR_STUDENT_ID: event.student_id, ATTR_CHANGE_TYPE: CHANGE_ROLLBACK}
    with tracer.start_as_current_span("roll back graduation", attributes=attributes):
        student = await _locked_student(uow, event.student_id)
        trail = await _trail(uow, student.id, event.certificate_number)
        move = on_rolled_back(StudentState(student.status), trail)
        if move.step is Step.NOTHING:
            log.info("rollback of %s's graduation already recorded: nothing to do", student.id)
            return
        _check_school(student, event.lineage.school)
        detail = rollback_detail(
            trail.graduated_as,
            event.certificate_number,
            event.reason,
            event.rolled_back_by_level,
            move.note_zh,
        )
        if move.step is Step.NOTE:
            log.warning("rollback for %s noted without a status change: %s", student.id, move.note_zh)
            uow.session.add(_history_line(student, ROLLBACK_ACTION, detail))
            return
        await _change_status(
            uow,
            student,
            move,
            action=ROLLBACK_ACTION,
            detail=detail,
            change_type=CHANGE_ROLLBACK,
            review_id=event.graduation_list_id,
        )


async def _locked_student(uow: UnitOfWork, student_id: str) -> Student:
    """The record, locked: a graduation and its rollback of one student apply one after the
    other, each seeing the history line the other wrote."""
    student = await uow.session.get(Student, student_id, with_for_update=True)
    if student is None:
        raise LookupError(f"certificate for student {student_id}, who has no record here")
    return student


def _check_school(student: Student, school_code: str) -> None:
    """The certificate prints the school it names: one issued for a record that has moved since
    is wrong. Checked only for an event that still acts: a replay of an old one, after a
    rollback and a move, must end quietly."""
    if student.school_code != school_code:
        raise LookupError(
            f"certificate for student {student.id} names school {school_code}; "
            f"the record is at {student.school_code}"
        )


async def _trail(uow: UnitOfWork, student_id: str, certificate_number: str) -> CertificateTrail:
    """What the history says about this certificate number (domain/graduation.py uses it to
    recognise replays and a rollback that came first)."""
    actions = await uow.session.scalars(
        select(StudentHistory.action).where(
            StudentHistory.student_id == student_id,
            StudentHistory.action.startswith(GRADUATION_ACTION, autoescape=True),
            StudentHistory.detail.contains(certificate_mark(certificate_number), autoescape=True),
        )
    )
    graduated_as: StudentState | None = None
    rolled_back = False
    for action in actions:
        if action == ROLLBACK_ACTION:
            rolled_back = True
        elif action.startswith(f"{GRADUATION_ACTION}:"):
            graduated_as = StudentState(action.split(":", 1)[1])
    return CertificateTrail(graduated_as=graduated_as, rolled_back=rolled_back)


async def _change_status(
    uow: UnitOfWork,
    student: Student,
    move: Move,
    *,
    action: str,
    detail: str,
    change_type: str,
    review_id: str,
) -> None:
    """The status, its history line and StudentStatusChanged, as a status change's approval
    writes them (api/status_changes.py ``_apply``)."""
    assert move.to is not None
    before = student.status
    student.status = move.to.value
    student.frozen = is_frozen(move.to)
    uow.session.add(_history_line(student, action, detail))
    await uow.session.flush()
    school = await uow.session.get(School, student.school_code)
    assert school is not None  # a student's school row exists (foreign key)
    uow.emit(
        StudentStatusChanged(
            student=summary_of(student, school.name),
            change_type=change_type,
            from_status=before,
            review_id=review_id,
        ),
        subject=student.id,
    )


def _history_line(student: Student, action: str, detail: str) -> StudentHistory:
    return StudentHistory(
        student_id=student.id,
        at=datetime.now(UTC),
        province=student.province_code,
        action=action,
        detail=detail,
    )
