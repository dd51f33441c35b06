"""Enrollment's event handlers, one per event: its part of a cross-province transfer (DOMAIN.md
"Transfers"), cross-province duplicates and problem records, counselor assignments, and the
pending actions check-in's reports open (pending_actions.py).

Destination province: check the target (``transfer.transfer.requested``), then admit the record
(``enrollment.record.released``). Origin province: check the student (``transfer.case.opened``),
then release the record (``transfer.transfer.approved``). A handler that raises is retried and
finally dead-lettered with the reason: an approval for a student we cannot release must be seen
by an operator, never dropped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from opentelemetry import trace
from sqlalchemy import or_, select

from services.enrollment.dedupe import active_student_by_digest
from services.enrollment.domain.duplicates import later_registered_acts_first
from services.enrollment.domain.pending_action import RESPONSE_WORKDAYS, ActionKind, title_of
from services.enrollment.domain.registration import names_match, resident_id_in_number
from services.enrollment.domain.student_state import (
    RELEASED_STATES,
    StudentAction,
    StudentState,
    is_frozen,
    transition,
)
from services.enrollment.domain.transfer_checks import ClassHere, SchoolHere, destination_check, origin_check
from services.enrollment.models import School, SchoolClass, Student, StudentHistory
from services.enrollment.pending_actions import open_action, withdraw_prompt
from services.enrollment.problem_sync import follow_partner_act, follow_partner_arbitration
from services.enrollment.problems import open_problem_record
from services.enrollment.records import history_entry, history_of, school_name, summary_of
from services.enrollment.registering import RegistrationDeps, today_in_china
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.checkin import MissPromptWithdrawn, MissThresholdReached, SuspensionProposed
from shared.events.common import HistoryEntry
from shared.events.enrollment import (
    DestinationChecked,
    DuplicateFound,
    IdDigestAnnounced,
    OriginChecked,
    ProblemRecordActed,
    ProblemRecordArbitrated,
    RecordReleased,
    StudentTransferredIn,
    StudentTransferredOut,
)
from shared.events.identity import CounselorAssigned
from shared.events.transfer import CaseOpened, TransferApproved, TransferRequested
from shared.id_digest import id_digest
from shared.idnumber import mask_id_number
from shared.telemetry import ATTR_STUDENT_ID, ATTR_TRANSFER_ID

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")
subscriptions = Subscriptions()


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


@subscriptions.on(TransferRequested)
async def when_transfer_requested_check_destination(
    event: TransferRequested, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    with tracer.start_as_current_span(
        "check transfer destination", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ):
        session = uow.session
        school = await session.get(School, event.destination.school)
        klass = (
            await session.get(SchoolClass, event.destination_class_id) if event.destination_class_id else None
        )
        # A formal number is "G" + the resident ID: a record here under that ID, whatever its
        # number, would make the admitted record a duplicate (查重).
        resident_id = resident_id_in_number(event.student_number)
        same_student = Student.student_number == event.student_number
        if resident_id is not None:
            same_student = or_(same_student, Student.id_number == resident_id)
        studying_here = await session.scalar(
            select(Student.id)
            .where(same_student, Student.status.not_in([s.value for s in RELEASED_STATES]))
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
            DestinationChecked(transfer_id=event.transfer_id, ok=result.ok, reasons=list(result.reasons)),
            subject=event.transfer_id,
            correlation_id=transfer_correlation(event.transfer_id),
        )


@subscriptions.on_partner(CaseOpened)
async def when_case_opened_check_origin(event: CaseOpened, meta: EventEnvelope, uow: UnitOfWork) -> None:
    if meta.province != event.destination.province:
        # The signature proves who sent it; the answer goes back to that province and no other.
        raise ValueError(
            f"case sent by province {meta.province} names destination {event.destination.province}"
        )
    with tracer.start_as_current_span(
        "check transfer origin", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ):
        student = await _student_by_number(uow, event.student_number)
        result = origin_check(
            found_state=StudentState(student.status) if student else None,
            name_on_record=student.name if student else None,
            name_given=event.student_name,
        )
        local_summary = partner_summary = None
        if student is not None:
            # Only what the applicant needs: masked ID, no birth date (OriginChecked's contract).
            summary = summary_of(student, await school_name(uow.session, student.school_code))
            local_summary = summary.model_copy(update={"birth_date": None})
            # Someone who knows a number but not the name learns nothing about the student.
            partner_summary = local_summary if names_match(student.name, event.student_name) else None
        correlation = transfer_correlation(event.transfer_id)
        case = event.model_dump(mode="json")
        reasons = list(result.reasons)
        for to_province, shown in ((None, local_summary), (event.destination.province, partner_summary)):
            uow.emit(
                OriginChecked(
                    transfer_id=event.transfer_id, ok=result.ok, reasons=reasons, student=shown, case=case
                ),
                subject=event.transfer_id,
                correlation_id=correlation,
                to_province=to_province,
            )


@subscriptions.on(TransferApproved)
async def when_transfer_approved_release_record(
    event: TransferApproved, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """自动调档, origin side: freeze the record here and send all of it to the destination."""
    with tracer.start_as_current_span(
        "release student record", attributes={ATTR_TRANSFER_ID: event.transfer_id}
    ) as span:
        student = await _student_by_number(uow, event.student_number, for_update=True)
        if student is None:
            # The number embeds the full ID: mask it, this reason ends up in logs and the DLQ.
            raise LookupError(
                f"transfer {event.transfer_id}: no student {mask_id_number(event.student_number)} here"
            )
        span.set_attribute(ATTR_STUDENT_ID, student.id)
        if student.status == StudentState.TRANSFERRED_OUT:
            log.warning("transfer %s: student %s was already released", event.transfer_id, student.id)
            return
        student.status = transition(StudentState(student.status), StudentAction.TRANSFER_OUT).value
        student.frozen = is_frozen(StudentState(student.status))
        uow.session.add(
            StudentHistory(
                student_id=student.id,
                at=datetime.now(UTC),
                province=meta.province,
                action="transferred_out",
                detail=f"跨省转出至 {event.to_province}（转学申请 {event.transfer_id}）",
            )
        )
        await uow.session.flush()
        history = [history_entry(h) for h in await history_of(uow.session, student.id)]
        summary = summary_of(student, await school_name(uow.session, student.school_code))
        correlation = transfer_correlation(event.transfer_id)
        uow.emit(
            StudentTransferredOut(
                student=summary, transfer_id=event.transfer_id, to_province=event.to_province
            ),
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
            ),
            subject=student.id,
            correlation_id=correlation,
            to_province=event.to_province,
        )


@subscriptions.on_partner(RecordReleased)
async def when_record_released_admit_student(
    event: RecordReleased, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """自动调档, destination side: the record arrives with its id, number and history."""
    with tracer.start_as_current_span(
        "admit transferred student",
        attributes={ATTR_TRANSFER_ID: event.transfer_id, ATTR_STUDENT_ID: event.student_id},
    ):
        session = uow.session
        student = await session.get(Student, event.student_id, with_for_update=True)
        if student is not None and student.status != StudentState.TRANSFERRED_OUT:
            log.warning("transfer %s: student %s is already here", event.transfer_id, event.student_id)
            return
        school = await session.get(School, event.destination.school)
        if school is None:
            raise LookupError(
                f"transfer {event.transfer_id}: destination school {event.destination.school} unknown"
            )
        klass = (
            await session.get(SchoolClass, event.destination_class_id) if event.destination_class_id else None
        )
        if event.destination_class_id and (klass is None or klass.school_code != school.code):
            raise LookupError(
                f"transfer {event.transfer_id}: class {event.destination_class_id} not in {school.code}"
            )

        if student is None:
            student = Student(id=event.student_id, status=StudentState.IN_SCHOOL.value)
            session.add(student)
            known: set[tuple[str, str, str, str]] = set()
        else:
            # Coming back to a province they once left: the old record here wakes up.
            student.status = transition(StudentState(student.status), StudentAction.TRANSFER_BACK_IN).value
            known = {_key(history_entry(h)) for h in await history_of(session, student.id)}
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
        student.grade = klass.grade if klass else event.entry_year
        # The class decides the major; a transfer keeps the study length (DOMAIN.md "Transfers").
        student.major_code = klass.major_code if klass else event.major_code
        student.study_length = event.study_length
        student.study_form = event.study_form
        student.frozen = False
        deps: RegistrationDeps | None = HANDLER_DEPS.get("registration")
        if deps is not None and deps.digest_key is not None and event.id_number:
            student.id_digest = id_digest(deps.digest_key, event.id_type, event.id_number)
        await session.flush()
        for entry in event.history:
            if _key(entry) not in known:
                session.add(StudentHistory(student_id=student.id, **_history_columns(entry)))
        session.add(
            StudentHistory(
                student_id=student.id,
                at=datetime.now(UTC),
                province=school.province_code,
                action="transferred_in",
                detail=f"从 {meta.province} 跨省转入 {school.name}（转学申请 {event.transfer_id}）",
            )
        )
        uow.emit(
            StudentTransferredIn(
                student=summary_of(student, school.name),
                transfer_id=event.transfer_id,
                from_province=meta.province,
            ),
            subject=student.id,
            correlation_id=transfer_correlation(event.transfer_id),
        )


def _key(entry: HistoryEntry) -> tuple[str, str, str, str]:
    return (_instant(entry.at).isoformat(), entry.province, entry.action, entry.detail)


def _instant(at: str) -> datetime:
    parsed = datetime.fromisoformat(at)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _history_columns(entry: HistoryEntry) -> dict[str, object]:
    return {
        "at": _instant(entry.at),
        "province": entry.province,
        "action": entry.action,
        "detail": entry.detail,
    }


# --- Cross-province duplicate check (dedupe.py) -------------------------------------------------
# Handlers get no service context; registration's dependencies (the digest key, the calendar)
# are handed over at start by ``bind_handler_deps``.
HANDLER_DEPS: dict[str, RegistrationDeps] = {}


def bind_handler_deps(deps: RegistrationDeps) -> None:
    HANDLER_DEPS["registration"] = deps


def _duplicate_detail(partner: str) -> str:
    return f"跨省重复学籍：省份 {partner} 有同一证件号码的在籍学籍（按密钥摘要比对发现）"


@subscriptions.on_partner(IdDigestAnnounced)
async def when_id_digest_announced_check_duplicate(
    event: IdDigestAnnounced, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """A partner registered someone: if we hold an active record with that digest, both sides
    open a problem record — ours here, theirs on our ``DuplicateFound``."""
    student = await active_student_by_digest(uow.session, event.digest)
    if student is None:
        return
    with tracer.start_as_current_span("cross-province duplicate", attributes={ATTR_STUDENT_ID: student.id}):
        await _open_cross_province_duplicate(
            uow,
            student,
            partner=meta.province,
            partner_student_id=event.student_id,
            partner_registered_at=event.registered_at,
            digest=event.digest,
        )
        uow.emit(
            DuplicateFound(
                digest=event.digest,
                announced_student_id=event.student_id,
                holder_student_id=student.id,
                holder_registered_at=student.created_at,
            ),
            subject=event.student_id,
            to_province=meta.province,
        )


@subscriptions.on_partner(DuplicateFound)
async def when_duplicate_found_open_problem_record(
    event: DuplicateFound, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    student = await uow.session.get(Student, event.announced_student_id)
    if student is None or student.id_digest != event.digest:
        # Not ours, or not the record the digest was announced for: a partner cannot make us
        # open a case about a student of our choosing.
        log.warning("duplicate answer from %s names no matching record here", meta.province)
        return
    await _open_cross_province_duplicate(
        uow,
        student,
        partner=meta.province,
        partner_student_id=event.holder_student_id,
        partner_registered_at=event.holder_registered_at,
        digest=event.digest,
    )


async def _open_cross_province_duplicate(
    uow: UnitOfWork,
    student: Student,
    *,
    partner: str,
    partner_student_id: str,
    partner_registered_at: datetime,
    digest: str,
) -> None:
    """Our side of a duplicate found across provinces; the later-registered side acts first."""
    await open_problem_record(
        uow.session,
        kind="duplicate_id",
        student=student,
        detail=_duplicate_detail(partner),
        acting_side=later_registered_acts_first(
            student.created_at, partner_registered_at, here=student.province_code, there=partner
        ),
        today=today_in_china(),
        calendar=HANDLER_DEPS["registration"].calendar,
        counterpart_province=partner,
        counterpart_ref=partner_student_id,
        id_digest=digest,
    )


# --- Problem records across provinces (problem_sync.py) -----------------------------------------


@subscriptions.on_partner(ProblemRecordActed)
async def when_problem_record_acted_follow_partner(
    event: ProblemRecordActed, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await follow_partner_act(uow, event, meta.province)


@subscriptions.on_partner(ProblemRecordArbitrated)
async def when_problem_record_arbitrated_follow_partner(
    event: ProblemRecordArbitrated, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await follow_partner_arbitration(uow, event, meta.province)


# --- Counselors (identity assigns them) -----------------------------------------------------------


@subscriptions.on(CounselorAssigned)
async def when_counselor_assigned_record_on_student(
    event: CounselorAssigned, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """The counselor's jurisdiction is the students assigned to them (DOMAIN.md: a counselor sees
    the students assigned to them); the student query filters on this column."""
    student = await uow.session.get(Student, event.student_id)
    if student is None or student.school_code != event.school_code:
        log.warning("counselor assignment for a student not in school %s here: ignored", event.school_code)
        return
    student.counselor_id = event.counselor_account_id


# --- Pending actions (待办) from check-in's reports (pending_actions.py) -------------------------


async def _student_of_school(uow: UnitOfWork, student_id: str, school_code: str) -> Student | None:
    student = await uow.session.get(Student, student_id)
    if student is None or student.school_code != school_code:
        # Moved on since check-in counted (transferred to another school or province): the
        # school that holds the record now is not the one the report is about.
        log.warning("check-in report for a student not in school %s here: ignored", school_code)
        return None
    return student


@subscriptions.on(MissThresholdReached)
async def when_misses_reach_the_threshold_open_pending_action(
    event: MissThresholdReached, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    student = await _student_of_school(uow, event.student_id, event.school_code)
    if student is None:
        return
    kind = ActionKind.MISS_THRESHOLD
    await open_action(
        uow.session,
        kind=kind,
        source_key=event.prompt_id,
        student=student,
        term=event.term,
        title=title_of(kind, student_name=student.name, rule=event.rule),
        detail={"rule": event.rule, "missed_round_ids": event.missed_round_ids},
        on=today_in_china(),
        calendar=HANDLER_DEPS["registration"].calendar,
        workdays=RESPONSE_WORKDAYS[kind],
    )


@subscriptions.on(SuspensionProposed)
async def when_leave_runs_past_the_limit_open_pending_action(
    event: SuspensionProposed, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    student = await _student_of_school(uow, event.student_id, event.school_code)
    if student is None:
        return
    kind = ActionKind.SUSPENSION_PROPOSED
    await open_action(
        uow.session,
        kind=kind,
        source_key=f"{event.student_id}:{event.term}",  # one proposal per student and term
        student=student,
        term=event.term,
        title=title_of(kind, student_name=student.name, leave_days=event.leave_days),
        detail={"leave_days": event.leave_days},
        on=today_in_china(),
        calendar=HANDLER_DEPS["registration"].calendar,
        workdays=RESPONSE_WORKDAYS[kind],
    )


@subscriptions.on(MissPromptWithdrawn)
async def when_prompt_withdrawn_close_and_revert(
    event: MissPromptWithdrawn, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    student = await uow.session.get(Student, event.student_id)
    if student is None:
        log.warning("withdrawn prompt %s names no student here: ignored", event.prompt_id)
        return
    await withdraw_prompt(
        uow,
        prompt_id=event.prompt_id,
        student=student,
        appeal_id=event.appeal_id,
        term="",
        on=today_in_china(),
        calendar=HANDLER_DEPS["registration"].calendar,
    )
