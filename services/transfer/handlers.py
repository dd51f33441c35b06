"""How the transfer service reacts to events: enrollment's checks and record moves in this
province, and the partner province's copy of the case (CaseOpened via its enrollment, steps)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from services.transfer.domain.cross_province_transfer import (
    CrossProvinceTransferState,
    RecordsMoved,
    Reject,
)
from services.transfer.models import SchoolView, TransferCase
from services.transfer.steps import (
    append_step,
    case_for_update,
    replayed_action,
    system_actor,
    take_step,
)
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.enrollment import DestinationChecked, OriginChecked, SchoolRegistered, StudentTransferredIn
from shared.events.transfer import CaseOpened, CaseStepTaken

log = logging.getLogger(__name__)

subscriptions = Subscriptions()

S = CrossProvinceTransferState


class CaseNotHereYet(LookupError):
    """An event about a case this province has not recorded yet; raised so the bus retries it
    (the event that records the case travels another route and may arrive second)."""


class StepsDiverged(RuntimeError):
    """A partner's step led its copy to a state ours did not reach: the copies disagree."""


async def _case(uow: UnitOfWork, transfer_id: str) -> TransferCase:
    case = await case_for_update(uow.session, transfer_id)
    if case is None:
        raise CaseNotHereYet(f"transfer {transfer_id} is not recorded here (yet)")
    return case


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


@subscriptions.on(DestinationChecked)
async def when_destination_checked_record_result(
    event: DestinationChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Destination side: enrollment here says whether the class exists and the student is new here."""
    case = await _case(uow, event.transfer_id)
    case.dest_checked = event.ok
    case.dest_check_reasons = list(event.reasons)
    case.updated_at = datetime.now(UTC)


@subscriptions.on_partner(OriginChecked)
async def when_origin_checked_record_result(
    event: OriginChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Destination side: the origin says whose student this is; a failed check rejects the case."""
    case = await _case(uow, event.transfer_id)
    now = datetime.now(UTC)
    case.origin_checked = event.ok
    case.origin_check_reasons = list(event.reasons)
    case.updated_at = now
    if event.student is not None:
        student = event.student
        case.student_id = student.student_id
        case.origin_city = student.lineage.city
        case.origin_county = student.lineage.county
        case.origin_school = student.lineage.school
        case.origin_school_name = student.school_name
        case.student_summary = student.model_dump(mode="json")
    # A case the applicant already cancelled keeps its state; the result is still recorded.
    if not event.ok and case.state == S.APPLIED:
        await take_step(
            uow,
            case,
            Reject(),
            actor=system_actor(meta.province),
            at=now,
            opinion="; ".join(event.reasons) or "转出省学籍核验未通过",
            tell=case.origin_province,
        )


@subscriptions.on(OriginChecked)
async def when_origin_checked_open_origin_copy(
    event: OriginChecked, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Origin side: our enrollment vouched for the student, so this province opens its copy of the
    case from the application the destination sent. A failed check opens nothing: the destination
    rejects the case and nobody here has anything to review."""
    if not event.ok or event.student is None:
        return
    opened = CaseOpened.model_validate(event.case)
    if await uow.session.get(TransferCase, opened.transfer_id) is not None:
        return
    student = event.student
    applied_at = datetime.fromisoformat(opened.applied_at)
    case = TransferCase(
        id=opened.transfer_id,
        kind=opened.kind,
        state=S.APPLIED.value,
        student_number=opened.student_number,
        student_name=opened.student_name,
        student_id=student.student_id,
        origin_province=opened.origin_province,
        origin_city=student.lineage.city,
        origin_county=student.lineage.county,
        origin_school=student.lineage.school,
        origin_school_name=student.school_name,
        dest_province=opened.destination.province,
        dest_city=opened.destination.city,
        dest_county=opened.destination.county,
        dest_school=opened.destination.school,
        dest_school_name=opened.destination_school_name,
        dest_class_id=opened.destination_class_id,
        grade=opened.grade,
        reason=opened.reason,
        origin_checked=True,
        origin_check_reasons=list(event.reasons),
        dest_check_reasons=[],
        student_summary=student.model_dump(mode="json"),
        created_at=applied_at,
        updated_at=datetime.now(UTC),
    )
    uow.session.add(case)
    await uow.session.flush()
    await append_step(
        uow.session,
        case,
        action="apply",
        level=None,
        actor=opened.applicant,
        opinion=opened.reason,
        at=applied_at,
    )


@subscriptions.on_partner(CaseStepTaken)
async def when_partner_step_taken_mirror_it(
    event: CaseStepTaken, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Either side: the other province took a step; our copy takes the same one."""
    case = await case_for_update(uow.session, event.transfer_id)
    if case is None:
        if event.action == Reject.name and event.level is None:
            # The destination rejected on our own failed check: we never opened a copy.
            log.info("transfer %s was rejected on the origin check; no copy here", event.transfer_id)
            return
        raise CaseNotHereYet(f"transfer {event.transfer_id} is not recorded here (yet)")
    await take_step(
        uow,
        case,
        replayed_action(event),
        actor=event.actor,
        at=datetime.fromisoformat(event.at),
        opinion=event.opinion,
        tell=None,
    )
    if case.state != event.state_after:
        raise StepsDiverged(
            f"transfer {case.id}: the partner reached {event.state_after}, this copy {case.state}"
        )
    if case.state == S.ORIGIN_APPROVED and case.records_arrived_at is not None:
        await _complete(uow, case)


@subscriptions.on(StudentTransferredIn)
async def when_student_transferred_in_complete_case(
    event: StudentTransferredIn, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """Destination side: enrollment created the record here (调档完毕)."""
    case = await _case(uow, event.transfer_id)
    if case.state in (S.SENT_TO_ORIGIN, S.ORIGIN_SCHOOL_APPROVED):
        # The origin bureau's approval step is still on its way: complete when it arrives.
        case.records_arrived_at = datetime.now(UTC)
        return
    await _complete(uow, case)


async def _complete(uow: UnitOfWork, case: TransferCase) -> None:
    await take_step(
        uow,
        case,
        RecordsMoved(),
        actor=system_actor(case.dest_province),
        at=datetime.now(UTC),
        opinion="records moved",
        tell=case.origin_province,
    )
