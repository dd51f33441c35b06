"""Enrollment's event handlers, one per event: its part of transfers (transfers.py, DOMAIN.md
"Transfers"), cross-province duplicates and problem records, counselor assignments, the
pending actions check-in's reports open (pending_actions.py), and graduation (graduation.py).

A handler that raises is retried and finally dead-lettered with the reason: an approval for a
student we cannot move or release must be seen by an operator, never dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime

from opentelemetry import trace

from services.enrollment.dedupe import active_student_by_digest
from services.enrollment.domain.duplicates import later_registered_acts_first
from services.enrollment.domain.pending_action import RESPONSE_WORKDAYS, ActionKind, title_of
from services.enrollment.graduation import apply_graduation, roll_back_graduation
from services.enrollment.models import Student
from services.enrollment.pending_actions import open_action, withdraw_prompt
from services.enrollment.problem_sync import follow_partner_act, follow_partner_arbitration
from services.enrollment.problems import open_problem_record
from services.enrollment.registering import RegistrationDeps
from services.enrollment.transfers import (
    add_verification_summary,
    admit_released_record,
    answer_lookup,
    carry_out_approval,
    check_destination,
    check_origin,
)
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import today_in_china
from shared.events import EventEnvelope
from shared.events.certificates import GraduationRolledBack, StudentGraduated
from shared.events.checkin import (
    MissPromptWithdrawn,
    MissThresholdReached,
    SuspensionProposed,
    VerificationSummaryReleased,
)
from shared.events.enrollment import (
    DuplicateFound,
    IdDigestAnnounced,
    ProblemRecordActed,
    ProblemRecordArbitrated,
    RecordReleased,
)
from shared.events.identity import CounselorAssigned
from shared.events.transfer import StudentLookupRequested, TransferApproved, TransferRequested
from shared.telemetry import ATTR_STUDENT_ID

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")
subscriptions = Subscriptions()


@subscriptions.on(TransferRequested)
async def when_transfer_requested_check_sides_here(
    event: TransferRequested, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """A case opened in this province (or, for a cross-province case, copied here by our transfer
    service): check the sides that are ours. Partner cases never reach enrollment directly."""
    if event.check_destination:
        await check_destination(uow, event)
    if event.check_origin:
        await check_origin(uow, event)


@subscriptions.on_partner(StudentLookupRequested)
async def when_lookup_requested_answer_asking_province(
    event: StudentLookupRequested, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    # The signature proves who asked; the answer goes back to that province and no other.
    await answer_lookup(uow, event, asking_province=meta.province)


@subscriptions.on(TransferApproved)
async def when_transfer_approved_move_or_release_record(
    event: TransferApproved, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await carry_out_approval(uow, event, province=meta.province)


@subscriptions.on_partner(VerificationSummaryReleased)
async def when_verification_summary_released_add_to_history(
    event: VerificationSummaryReleased, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await add_verification_summary(uow, event, from_province=meta.province)


@subscriptions.on_partner(RecordReleased)
async def when_record_released_admit_student(
    event: RecordReleased, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    deps: RegistrationDeps | None = HANDLER_DEPS.get("registration")
    await admit_released_record(
        uow,
        event,
        from_province=meta.province,
        digest_key=deps.digest_key if deps is not None else None,
        today=today_in_china(),
    )


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


# --- Graduation (the certificates service issues; graduation.py) -------------------------------


@subscriptions.on(StudentGraduated)
async def when_student_graduated_end_record(
    event: StudentGraduated, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await apply_graduation(uow, event)


@subscriptions.on(GraduationRolledBack)
async def when_graduation_rolled_back_return_to_school(
    event: GraduationRolledBack, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await roll_back_graduation(uow, event)
