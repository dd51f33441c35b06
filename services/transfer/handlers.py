"""How the transfer service reacts to events: enrollment's checks and record moves in this
province, and the partner province's opened cases, check results, steps, cancel requests and
look-up answers. Each handler locks the case, runs the pure copy (domain/case_copy.py) and
stores the outcome (steps.py); a line that came too early is parked, not retried blindly."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.transfer.domain.case_copy import NotYet, open_case, record_check, records_arrived
from services.transfer.domain.eligibility import StudentFacts, TargetFacts, eligibility_reasons
from services.transfer.domain.kinds import KINDS
from services.transfer.domain.review_levels import ReviewLevel, Side
from services.transfer.domain.transfer_process import OPEN_STATES
from services.transfer.models import SchoolView, StudentLookup, TransferCase
from services.transfer.steps import (
    CANCEL_REQUEST,
    STEP,
    add_lines,
    case_for_update,
    copy_columns,
    load,
    offer_parked,
    park,
    receiver,
    store,
)
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import today_in_china
from shared.events import EventEnvelope
from shared.events.common import StudentSummary
from shared.events.enrollment import (
    DestinationChecked,
    OriginChecked,
    SchoolRegistered,
    StudentLookupAnswered,
    StudentMovedWithinProvince,
    StudentTransferredIn,
)
from shared.events.transfer import (
    CancelRequested,
    CaseChecked,
    CaseOpened,
    CaseStepTaken,
    TimelineLine,
    TransferKind,
    TransferRequested,
)

log = logging.getLogger(__name__)

subscriptions = Subscriptions()

ANOTHER_CASE_OPEN = "该学生已有正在办理的转学申请"
NOT_AT_APPLYING_SCHOOL = "该学生学籍不在申请转出的学校"


class CaseNotHereYet(LookupError):
    """An event about a case this province has no row for. Each event handled with it is sent
    after the case was recorded here (by the transaction that recorded it, or in answer to a
    message that transaction sent), so a miss is no ordering race: the bus retries it and then
    dead-letters it with this reason for an operator. (A partner's step, which may overtake the
    opened case, is parked instead: ``_receive``.)"""


async def _case(uow: UnitOfWork, transfer_id: str) -> TransferCase:
    case = await case_for_update(uow.session, transfer_id)
    if case is None:
        raise CaseNotHereYet(f"transfer {transfer_id} is not recorded here (yet)")
    return case


def _now() -> str:
    return datetime.now(UTC).isoformat()


@subscriptions.on(SchoolRegistered)
async def when_school_registered_keep_view(
    event: SchoolRegistered, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    values = {
        "school_code": event.lineage.school,
        "province": event.lineage.province,
        "city": event.lineage.city,
        "county": event.lineage.county,
        "name": event.name,
        "school_type": event.school_type,
    }
    await uow.session.execute(
        insert(SchoolView)
        .values(**values)
        .on_conflict_do_update(index_elements=["school_code"], set_={**values, "updated_at": func.now()})
    )


# ---- checks --------------------------------------------------------------------------------


async def _record_check(
    uow: UnitOfWork, case: TransferCase, here: str, side: Side, ok: bool, reasons: list[str]
) -> None:
    """Record one side's check; once both are in and passed, judge the kind's eligibility rules
    (a failure counts as the origin's check failing: the student is not one the kind takes)."""
    before = await load(uow.session, case, here)
    outcome = record_check(before, side, ok, reasons, _now())
    copy = outcome.copy
    if copy.checks_passed and case.student_facts is not None and case.target_facts is not None:
        judged = eligibility_reasons(
            KINDS[TransferKind(case.kind)],
            StudentFacts(**case.student_facts),
            TargetFacts(**case.target_facts),
            today_in_china(),
        )
        if judged:
            outcome = outcome.then(record_check(copy, Side.ORIGIN, False, judged, _now()))
    await store(uow, case, before, outcome)


def _student_facts(student: StudentSummary, school_type: str | None) -> StudentFacts:
    return StudentFacts(
        status=student.status,
        entry_year=student.grade,
        study_length=student.study_length,
        major_code=student.major_code,
        school_type=school_type,
    )


def _take_origin_summary(case: TransferCase, student: StudentSummary | None, school_type: str | None) -> None:
    if student is None:
        return
    case.student_id = student.student_id
    case.origin_city = student.lineage.city
    case.origin_county = student.lineage.county
    case.origin_school = student.lineage.school
    case.origin_school_name = student.school_name
    case.student_summary = student.model_dump(mode="json")
    case.student_facts = asdict(_student_facts(student, school_type))


@subscriptions.on(DestinationChecked)
async def when_destination_checked_record_result(
    event: DestinationChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Enrollment here says whether the target school and class take the student."""
    case = await _case(uow, event.transfer_id)
    target = TargetFacts(school_type=event.school_type, class_major_code=event.class_major_code)
    case.target_facts = asdict(target)
    await _record_check(uow, case, meta.province, Side.DESTINATION, event.ok, list(event.reasons))


@subscriptions.on(OriginChecked)
async def when_origin_checked_record_result(
    event: OriginChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Enrollment here vouched (or not) for the student leaving. Across provinces the result goes
    to the destination, which holds the case at this point and judges it."""
    case = await _case(uow, event.transfer_id)
    ok, reasons = event.ok, list(event.reasons)
    elsewhere = event.student is not None and case.origin_school not in (None, event.student.lineage.school)
    if elsewhere:  # inside the province the origin school applied: the student must be its own
        ok, reasons = False, [*reasons, NOT_AT_APPLYING_SCHOOL]
    _take_origin_summary(case, event.student, event.school_type)
    if case.dest_province != meta.province:
        shown = event.student.model_copy(update={"birth_date": None}) if event.student else None
        uow.emit(
            CaseChecked(
                transfer_id=case.id,
                ok=event.ok,
                reasons=list(event.reasons),
                student=shown,
                origin_school_type=event.school_type,
            ),
            subject=case.id,
            correlation_id=UUID(case.id),
            to_province=case.dest_province,
        )
    await _record_check(uow, case, meta.province, Side.ORIGIN, ok, reasons)


@subscriptions.on_partner(CaseChecked)
async def when_partner_checked_record_result(
    event: CaseChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Destination: the origin's check of the student came back."""
    case = await _case(uow, event.transfer_id)
    if meta.province != case.origin_province:
        raise ValueError(
            f"transfer {case.id}: check sent by {meta.province}, the origin is {case.origin_province}"
        )
    _take_origin_summary(case, event.student, event.origin_school_type)
    await _record_check(uow, case, case.dest_province, Side.ORIGIN, event.ok, list(event.reasons))


# ---- the other province's copy ------------------------------------------------------------------


@subscriptions.on_partner(CaseOpened)
async def when_case_opened_open_our_copy(event: CaseOpened, meta: EventEnvelope, uow: UnitOfWork) -> None:
    """Origin: a destination applied for one of our students. We open our copy and ask our
    enrollment to check the student; a student with another case open here is refused."""
    if meta.province != event.destination.province or event.origin_province != uow.province:
        # The signature proves who sent it; a case must name the sender as its destination.
        raise ValueError(
            f"case sent by province {meta.province} to {uow.province} names destination "
            f"{event.destination.province} and origin {event.origin_province}"
        )
    if event.apply_line is None or not event.chain:
        raise ValueError(f"transfer {event.transfer_id}: an opened case needs its chain and apply line")
    session = uow.session
    if await session.get(TransferCase, event.transfer_id) is not None:
        return
    here = event.origin_province
    other_open = await session.scalar(
        select(TransferCase.id).where(
            TransferCase.student_number == event.student_number,
            TransferCase.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    if other_open is not None:
        uow.emit(
            CaseChecked(transfer_id=event.transfer_id, ok=False, reasons=[ANOTHER_CASE_OPEN]),
            subject=event.transfer_id,
            correlation_id=UUID(event.transfer_id),
            to_province=meta.province,
        )
        return
    copy = open_case(
        transfer_id=event.transfer_id,
        kind=TransferKind(event.kind),
        here=here,
        origin_province=here,
        dest_province=event.destination.province,
        chain=[ReviewLevel(level) for level in event.chain],
        apply_line=event.apply_line,
    )
    applied_at = datetime.fromisoformat(event.applied_at)
    case = TransferCase(
        id=event.transfer_id,
        kind=event.kind,
        chain=list(event.chain),
        pending_since=applied_at,
        student_number=event.student_number,
        student_name=event.student_name,
        origin_province=here,
        dest_province=event.destination.province,
        dest_city=event.destination.city,
        dest_county=event.destination.county,
        dest_school=event.destination.school,
        dest_school_name=event.destination_school_name,
        dest_class_id=event.destination_class_id,
        grade=event.grade,
        reason=event.reason,
        created_at=applied_at,
        updated_at=datetime.now(UTC),
        **copy_columns(copy),
    )
    session.add(case)
    await session.flush()
    await add_lines(session, case.id, copy.lines)
    await offer_parked(uow, case, copy)
    uow.emit(
        TransferRequested(
            transfer_id=case.id,
            kind=case.kind,
            student_number=case.student_number,
            student_name=case.student_name,
            origin_province=here,
            destination=event.destination,
            destination_class_id=case.dest_class_id,
            grade=case.grade,
            check_origin=True,
            check_destination=False,
        ),
        subject=case.id,
        correlation_id=UUID(case.id),
    )


@subscriptions.on_partner(CaseStepTaken)
async def when_partner_step_taken_replay_it(
    event: CaseStepTaken, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Either side: the province holding the case took a step; our copy takes the same one."""
    await _receive(uow, event.transfer_id, STEP, event.line, sender=meta.province)


@subscriptions.on_partner(CancelRequested)
async def when_cancel_requested_decide(event: CancelRequested, meta: EventEnvelope, uow: UnitOfWork) -> None:
    """Holder: the applicant's province asks to cancel; the answer goes back as a step."""
    await _receive(uow, event.transfer_id, CANCEL_REQUEST, event.line, sender=meta.province)


async def _receive(uow: UnitOfWork, transfer_id: str, kind: str, line: TimelineLine, *, sender: str) -> None:
    case = await case_for_update(uow.session, transfer_id)
    if case is None:
        # The opened case travels the same queue but may be retried behind this one: keep it.
        await park(uow.session, transfer_id, kind, line)
        return
    if sender not in (case.origin_province, case.dest_province) or sender == uow.province:
        # The signature proves who sent it; only the case's other province speaks for it.
        raise ValueError(f"transfer {case.id}: province {sender} is not the other side of this case")
    before = await load(uow.session, case, uow.province)
    try:
        outcome = receiver(kind)(before, line)
    except NotYet:
        await park(uow.session, transfer_id, kind, line)
        return
    await store(uow, case, before, outcome)


# ---- the records ------------------------------------------------------------------------------


@subscriptions.on(StudentTransferredIn)
async def when_student_transferred_in_complete_case(
    event: StudentTransferredIn, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Destination: enrollment created the record here (调档完毕)."""
    await _records_arrived(uow, event.transfer_id, meta.province)


@subscriptions.on(StudentMovedWithinProvince)
async def when_student_moved_complete_case(
    event: StudentMovedWithinProvince, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """One province: enrollment moved the record to the destination school."""
    await _records_arrived(uow, event.transfer_id, meta.province)


async def _records_arrived(uow: UnitOfWork, transfer_id: str, here: str) -> None:
    case = await _case(uow, transfer_id)
    before = await load(uow.session, case, here)
    await store(uow, case, before, records_arrived(before, _now()))


# ---- look-ups ---------------------------------------------------------------------------------


@subscriptions.on_partner(StudentLookupAnswered)
async def when_lookup_answered_keep_it(
    event: StudentLookupAnswered, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    lookup = await uow.session.get(StudentLookup, event.lookup_id, with_for_update=True)
    if lookup is None or lookup.origin_province != meta.province:
        log.warning("look-up %s: no such question to province %s", event.lookup_id, meta.province)
        return
    lookup.found = event.found
    lookup.student_summary = event.student.model_dump(mode="json") if event.student else None
    lookup.answered_at = datetime.now(UTC)
