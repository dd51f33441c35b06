"""Enrollment's part of every kind of transfer (DOMAIN.md "Transfers"); handlers.py subscribes.

Checks (``transfer.transfer.requested``, local): vouch for the sides that are in this province,
the student at the origin and the school and class at the destination, with the facts the
transfer service judges eligibility on. Approval (``transfer.transfer.approved``, local, in the
origin province): inside the province the record moves to the new school; across provinces it
is released to the partner (自动调档), which admits it (``enrollment.record.released``); the
origin's verification summary beside it is parked if it comes first, and applied on admission. Lookups
(``transfer.lookup.requested``, from a partner) answer who a student is, when name and number
match.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from uuid import UUID

from opentelemetry import trace
from sqlalchemy import delete, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.registration import names_match, resident_id_in_number
from services.enrollment.domain.student_state import (
    RELEASED_STATES,
    StudentAction,
    StudentState,
    is_frozen,
    transition,
)
from services.enrollment.domain.transfer_admission import (
    admitted_study_length,
    entry_year_of_school_year,
    moves_within_province,
    starts_new_course,
)
from services.enrollment.domain.transfer_checks import ClassHere, SchoolHere, destination_check, origin_check
from services.enrollment.models import School, SchoolClass, Student, StudentHistory
from services.enrollment.models.parked_summaries import PARKED_SUMMARY_UNIQUE, ParkedVerificationSummary
from services.enrollment.records import history_entry, history_of, lineage_of, summary_of
from shared.bus.unit_of_work import UnitOfWork
from shared.events.checkin import VerificationSummaryReleased
from shared.events.common import StudentSummary
from shared.events.enrollment import (
    DestinationChecked,
    OriginChecked,
    RecordReleased,
    StudentLookupAnswered,
    StudentMovedWithinProvince,
    StudentTransferredIn,
    StudentTransferredOut,
)
from shared.events.transfer import StudentLookupRequested, TransferApproved, TransferRequested
from shared.id_digest import id_digest
from shared.idnumber import mask_id_number
from shared.telemetry import ATTR_STUDENT_ID, ATTR_TRANSFER_ID

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")

MOVED_WITHIN_PROVINCE = "transferred_within_province"


def transfer_correlation(transfer_id: str) -> UUID | None:
    """The transfer is the business process its events correlate on (DESIGN.md "Events")."""
    try:
        return UUID(transfer_id)
    except ValueError:
        return None  # the unit of work falls back to the causing event's correlation id


async def _student_by_number(
    uow: UnitOfWork, student_number: str, *, for_update: bool = False
) -> Student | None:
    query = select(Student).where(Student.student_number == student_number)
    student: Student | None = await uow.session.scalar(query.with_for_update() if for_update else query)
    return student


async def _school_of(uow: UnitOfWork, code: str) -> School:
    school = await uow.session.get(School, code)
    if school is None:
        raise LookupError(f"school {code} is not in this province's organisation tree")
    return school


def _shown_to_applicant(summary: StudentSummary) -> StudentSummary:
    """What a registrar of the other side may see: masked ID, no birth date, no ID digest."""
    return summary.model_copy(update={"birth_date": None, "id_number_digest": None})


# --- Checks -------------------------------------------------------------------------------------


async def check_destination(uow: UnitOfWork, event: TransferRequested) -> None:
    with tracer.start_as_current_span(
        "check transfer destination", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ):
        session = uow.session
        school = await session.get(School, event.destination.school)
        klass = (
            await session.get(SchoolClass, event.destination_class_id) if event.destination_class_id else None
        )
        same_student = Student.student_number == event.student_number
        if moves_within_province(event.kind):
            # The record is in this province by design: only one at the target school is in the way.
            where = [same_student, Student.school_code == event.destination.school]
        else:
            # A formal number is "G" + the resident ID: a record here under that ID, whatever its
            # number, would make the admitted record a duplicate (查重).
            resident_id = resident_id_in_number(event.student_number)
            if resident_id is not None:
                same_student = or_(same_student, Student.id_number == resident_id)
            where = [same_student]
        studying_here = await session.scalar(
            select(Student.id)
            .where(*where, Student.status.not_in([s.value for s in RELEASED_STATES]))
            .limit(1)
        )
        result = destination_check(
            destination=event.destination,
            school=SchoolHere(school.code, school.province_code, school.city_code, school.county_code)
            if school
            else None,
            class_id=event.destination_class_id,
            klass=ClassHere(klass.id, klass.school_code) if klass else None,
            already_studying_here=studying_here is not None,
        )
        uow.emit(
            DestinationChecked(
                transfer_id=event.transfer_id,
                ok=result.ok,
                reasons=list(result.reasons),
                school_type=school.type if school else None,
                class_major_code=klass.major_code if klass else None,
                class_grade=klass.grade if klass else None,
            ),
            subject=event.transfer_id,
            correlation_id=transfer_correlation(event.transfer_id),
        )


async def check_origin(uow: UnitOfWork, event: TransferRequested) -> None:
    with tracer.start_as_current_span(
        "check transfer origin", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ):
        student = await _student_by_number(uow, event.student_number)
        result = origin_check(name_on_record=student.name if student else None, name_given=event.student_name)
        shown = school_type = None
        if student is not None:
            school = await _school_of(uow, student.school_code)
            school_type = school.type
            # Someone who knows a number but not the name learns nothing about the student.
            if result.ok:
                shown = _shown_to_applicant(summary_of(student, school.name))
        uow.emit(
            OriginChecked(
                transfer_id=event.transfer_id,
                ok=result.ok,
                reasons=list(result.reasons),
                student=shown,
                school_type=school_type if result.ok else None,
            ),
            subject=event.transfer_id,
            correlation_id=transfer_correlation(event.transfer_id),
        )


async def answer_lookup(uow: UnitOfWork, event: StudentLookupRequested, asking_province: str) -> None:
    """跨省转学 申请前查询: only name, masked ID, where, grade and status — and only to someone
    who knows both the number and the name."""
    with tracer.start_as_current_span("answer student lookup"):
        student = await _student_by_number(uow, event.student_number)
        shown = None
        if student is not None and names_match(student.name, event.student_name):
            school = await _school_of(uow, student.school_code)
            shown = _shown_to_applicant(summary_of(student, school.name)).model_copy(
                update={"sex": None, "class_id": None, "major_code": None}
            )
        uow.emit(
            StudentLookupAnswered(lookup_id=event.lookup_id, found=shown is not None, student=shown),
            subject=event.lookup_id,
            correlation_id=transfer_correlation(event.lookup_id),
            to_province=asking_province,
        )


# --- Approval at the origin -----------------------------------------------------------------------


async def carry_out_approval(uow: UnitOfWork, event: TransferApproved, province: str) -> None:
    with tracer.start_as_current_span(
        "carry out approved transfer", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ) as span:
        student = await _student_by_number(uow, event.student_number, for_update=True)
        if student is None:
            # The number embeds the full ID: mask it, this reason ends up in logs and the DLQ.
            raise LookupError(
                f"transfer {event.transfer_id}: no student {mask_id_number(event.student_number)} here"
            )
        span.set_attribute(ATTR_STUDENT_ID, student.id)
        if moves_within_province(event.kind):
            await _move_within_province(uow, student, event, province)
        else:
            await _release(uow, student, event, province)


async def _destination_class(
    uow: UnitOfWork, transfer_id: str, school: School, class_id: str | None
) -> SchoolClass | None:
    if class_id is None:
        return None
    klass = await uow.session.get(SchoolClass, class_id)
    if klass is None or klass.school_code != school.code:
        raise LookupError(f"transfer {transfer_id}: class {class_id} not in {school.code}")
    return klass


async def _move_within_province(
    uow: UnitOfWork, student: Student, event: TransferApproved, province: str
) -> None:
    """省内转学 / 联合办学: the same record (id, number, study length) at the new school."""
    if student.school_code == event.destination.school:
        log.warning("transfer %s: student %s is already at the destination", event.transfer_id, student.id)
        return
    session = uow.session
    school = await session.get(School, event.destination.school)
    if school is None or school.province_code != province:
        raise LookupError(
            f"transfer {event.transfer_id}: destination school {event.destination.school} unknown"
        )
    klass = await _destination_class(uow, event.transfer_id, school, event.destination_class_id)
    origin = await _school_of(uow, student.school_code)
    from_lineage = lineage_of(student)
    student.status = transition(StudentState(student.status), StudentAction.MOVE_SCHOOL).value
    student.province_code = school.province_code
    student.city_code = school.city_code
    student.county_code = school.county_code
    student.school_code = school.code
    if klass is not None:
        student.class_id = klass.id
        student.grade = klass.grade
        student.major_code = klass.major_code
    else:
        student.class_id = None  # the old class belongs to the old school
    # The counselor was the old school's (DOMAIN.md: a counselor sees the students assigned to them).
    student.counselor_id = None
    session.add(
        StudentHistory(
            student_id=student.id,
            at=datetime.now(UTC),
            province=province,
            action=MOVED_WITHIN_PROVINCE,
            detail=f"省内转学：从 {origin.name} 转入 {school.name}（转学申请 {event.transfer_id}）",
        )
    )
    await session.flush()
    uow.emit(
        StudentMovedWithinProvince(
            student=summary_of(student, school.name), transfer_id=event.transfer_id, from_lineage=from_lineage
        ),
        subject=student.id,
        correlation_id=transfer_correlation(event.transfer_id),
    )


async def _release(uow: UnitOfWork, student: Student, event: TransferApproved, province: str) -> None:
    """自动调档, origin side: freeze the record here and send all of it to the destination."""
    if student.status == StudentState.TRANSFERRED_OUT:
        log.warning("transfer %s: student %s was already released", event.transfer_id, student.id)
        return
    session = uow.session
    origin = await _school_of(uow, student.school_code)
    student.status = transition(StudentState(student.status), StudentAction.TRANSFER_OUT).value
    student.frozen = is_frozen(StudentState(student.status))
    session.add(
        StudentHistory(
            student_id=student.id,
            at=datetime.now(UTC),
            province=province,
            action="transferred_out",
            detail=f"跨省转出至 {event.to_province}（转学申请 {event.transfer_id}）",
        )
    )
    await session.flush()
    history = [history_entry(h) for h in await history_of(session, student.id)]
    summary = summary_of(student, origin.name)
    correlation = transfer_correlation(event.transfer_id)
    uow.emit(
        StudentTransferredOut(student=summary, transfer_id=event.transfer_id, to_province=event.to_province),
        subject=student.id,
        correlation_id=correlation,
    )
    uow.emit(
        RecordReleased(
            transfer_id=event.transfer_id,
            student_id=student.id,
            student_number=student.student_number,
            name=student.name,
            sex=summary.sex,
            birth_date=student.birth_date,
            id_type=student.id_type,
            id_number=student.id_number,
            entry_year=student.grade,
            study_length=student.study_length,
            study_form=summary.study_form,
            major_code=student.major_code,
            history=history,
            destination=event.destination,
            destination_class_id=event.destination_class_id,
            kind=event.kind,
            origin_school_type=origin.type,
        ),
        subject=student.id,
        correlation_id=correlation,
        to_province=event.to_province,
    )


# --- Admission at the destination ----------------------------------------------------------------


async def admit_released_record(
    uow: UnitOfWork, event: RecordReleased, from_province: str, *, digest_key: bytes | None, today: date
) -> None:
    """自动调档, destination side: the record arrives with its id, number and history."""
    with tracer.start_as_current_span(
        "admit transferred student",
        attributes={ATTR_TRANSFER_ID: event.transfer_id, ATTR_STUDENT_ID: event.student_id},
    ):
        session = uow.session
        await _lock_arrival(session, event.student_id)
        student = await session.get(Student, event.student_id, with_for_update=True)
        if student is not None and student.status != StudentState.TRANSFERRED_OUT:
            log.warning("transfer %s: student %s is already here", event.transfer_id, event.student_id)
            return
        school = await session.get(School, event.destination.school)
        if school is None:
            raise LookupError(
                f"transfer {event.transfer_id}: destination school {event.destination.school} unknown"
            )
        klass = await _destination_class(uow, event.transfer_id, school, event.destination_class_id)

        if student is None:
            student = Student(id=event.student_id, status=StudentState.IN_SCHOOL.value)
            session.add(student)
            known: set[tuple[datetime, str, str, str]] = set()
        else:
            # Coming back to a province they once left: the old record here wakes up.
            student.status = transition(StudentState(student.status), StudentAction.TRANSFER_BACK_IN).value
            known = {(h.at, h.province, h.action, h.detail) for h in await history_of(session, student.id)}
        student.student_number = event.student_number
        student.name = event.name
        student.sex = event.sex
        student.birth_date = event.birth_date
        student.id_type = event.id_type
        student.id_number = event.id_number
        student.province_code = school.province_code
        student.city_code = school.city_code
        student.county_code = school.county_code
        student.school_code = school.code
        student.class_id = klass.id if klass else None
        if starts_new_course(event.kind):
            # 毕业后跨省就学: a new course at a new school, not the rest of the old one.
            student.grade = klass.grade if klass else entry_year_of_school_year(today)
            student.major_code = klass.major_code if klass else None
        else:
            student.grade = klass.grade if klass else event.entry_year
            # The class decides the major.
            student.major_code = klass.major_code if klass else event.major_code
        student.study_length = admitted_study_length(
            kind=event.kind,
            carried=event.study_length,
            origin_school_type=event.origin_school_type,
            destination_school_type=school.type,
        )
        student.study_form = event.study_form
        student.frozen = False
        if digest_key is not None and event.id_number:
            student.id_digest = id_digest(digest_key, event.id_type, event.id_number)
        await session.flush()
        for entry in event.history:
            at = _instant(entry.at)
            if (at, entry.province, entry.action, entry.detail) not in known:
                session.add(
                    StudentHistory(
                        student_id=student.id,
                        at=at,
                        province=entry.province,
                        action=entry.action,
                        detail=entry.detail,
                    )
                )
        what = "毕业后跨省就学" if starts_new_course(event.kind) else "跨省转入"
        session.add(
            StudentHistory(
                student_id=student.id,
                at=datetime.now(UTC),
                province=school.province_code,
                action="transferred_in",
                detail=f"从 {from_province} {what} {school.name}（转学申请 {event.transfer_id}）",
            )
        )
        await _apply_parked_summaries(session, student.id)
        uow.emit(
            StudentTransferredIn(
                student=summary_of(student, school.name),
                transfer_id=event.transfer_id,
                from_province=from_province,
            ),
            subject=student.id,
            correlation_id=transfer_correlation(event.transfer_id),
        )


def _instant(at: str) -> datetime:
    """A travelling history line's time; one written without an offset is taken as UTC."""
    parsed = datetime.fromisoformat(at)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


VERIFICATION_SUMMARY = "verification_summary"


def verification_summary_detail(event: VerificationSummaryReleased, from_province: str) -> str:
    span = (
        f"{event.first_round_on.isoformat()} 至 {event.last_round_on.isoformat()}，"
        if event.first_round_on and event.last_round_on
        else ""
    )
    return (
        f"{from_province} 常态化核验汇总（转学申请 {event.transfer_id}）：{span}"
        f"核验通过 {event.rounds_checked_in} 轮，缺勤 {event.rounds_missed} 轮"
        f"（其中申诉成立 {event.misses_excused} 轮），准假 {event.leaves_granted} 次"
    )


async def _lock_arrival(session: AsyncSession, student_id: str) -> None:
    """Admission and a summary for the same student take turns. A student not here yet has no
    row to lock: without this a summary could park while the record is being admitted, unseen
    by the admission, and wait for a record that has already come."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"enrollment.arrival:{student_id}"}
    )


async def _add_summary_line(session: AsyncSession, student_id: str, from_province: str, detail: str) -> None:
    """The summary's history line, once: a replayed summary (or record) finds it already there."""
    already = await session.scalar(
        select(StudentHistory.id).where(
            StudentHistory.student_id == student_id,
            StudentHistory.action == VERIFICATION_SUMMARY,
            StudentHistory.detail == detail,
        )
    )
    if already is None:
        session.add(
            StudentHistory(
                student_id=student_id,
                at=datetime.now(UTC),
                province=from_province,
                action=VERIFICATION_SUMMARY,
                detail=detail,
            )
        )


async def _apply_parked_summaries(session: AsyncSession, student_id: str) -> None:
    """Admission: the summaries that overtook the record join its history in the same transaction."""
    parked = await session.execute(
        delete(ParkedVerificationSummary)
        .where(ParkedVerificationSummary.student_id == student_id)
        .returning(ParkedVerificationSummary.from_province, ParkedVerificationSummary.detail)
    )
    for from_province, detail in parked.all():
        await _add_summary_line(session, student_id, from_province, detail)


async def add_verification_summary(
    uow: UnitOfWork, event: VerificationSummaryReleased, *, from_province: str
) -> None:
    """Destination: the origin's verification summary joins the student's history. It travels
    beside the released record and may come first: then it is parked until admission applies it
    (retrying instead would dead-letter it whenever the record is late by more than the bus's
    few seconds of retries, e.g. while the partner's shovel or our broker restarts)."""
    session = uow.session
    await _lock_arrival(session, event.student_id)
    student = await session.get(Student, event.student_id, with_for_update=True)
    detail = verification_summary_detail(event, from_province)
    if student is None or student.status == StudentState.TRANSFERRED_OUT:
        log.info(
            "transfer %s: summary for %s parked until the record arrives", event.transfer_id, event.student_id
        )
        # A replay of a summary still parked is the same row: nothing to add.
        await session.execute(
            insert(ParkedVerificationSummary)
            .values(
                student_id=event.student_id,
                transfer_id=event.transfer_id,
                from_province=from_province,
                detail=detail,
            )
            .on_conflict_do_nothing(constraint=PARKED_SUMMARY_UNIQUE)
        )
        return
    await _add_summary_line(session, student.id, from_province, detail)
