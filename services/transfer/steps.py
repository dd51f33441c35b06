"""Running the pure copy of a case (domain/case_copy.py) against the database and the bus.

``load`` turns the locked row and its timeline into a ``CaseCopy``; ``store`` writes an outcome
back inside the caller's unit of work — the row, the new timeline lines, the events its effects
call for — and then offers the case's parked messages again. Routes and handlers both go
through here, so every step is recorded, traced and told to the partner the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from opentelemetry import trace
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer.domain.case_copy import (
    CaseCopy,
    MoveRecords,
    NotYet,
    Outcome,
    SendCancelRequest,
    SendStep,
    receive_cancel_request,
    receive_step,
)
from services.transfer.domain.review_levels import ReviewLevel
from services.transfer.domain.transfer_process import TERMINAL_STATES
from services.transfer.models import ParkedMessage, TimelineEntry, TransferCase
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.transfer import (
    CancelRequested,
    CaseParty,
    CaseStepTaken,
    EvidenceRef,
    TimelineLine,
    TransferApproved,
    TransferKind,
)
from shared.telemetry import ATTR_TRANSFER_ID, ATTR_TRANSFER_STEP

tracer = trace.get_tracer("xueji.transfer")

STEP = "step"
CANCEL_REQUEST = "cancel_request"


def receiver(message_kind: str) -> Callable[[CaseCopy, TimelineLine], Outcome]:
    """How a copy takes a partner's message of ``message_kind`` (STEP or CANCEL_REQUEST)."""
    return receive_step if message_kind == STEP else receive_cancel_request


async def case_for_update(session: AsyncSession, transfer_id: str) -> TransferCase | None:
    """The case, locked until the unit of work ends: steps on one case happen one at a time."""
    case: TransferCase | None = await session.scalar(
        select(TransferCase).where(TransferCase.id == transfer_id).with_for_update()
    )
    return case


async def timeline_of(session: AsyncSession, transfer_id: str) -> list[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry).where(TimelineEntry.transfer_id == transfer_id).order_by(TimelineEntry.seq)
    )
    return list(rows)


def line_of(entry: TimelineEntry) -> TimelineLine:
    return TimelineLine(
        step_id=entry.step_id,
        action=entry.action,
        level=entry.level,
        state_after=entry.state_after,
        pending_level_after=entry.pending_level_after,
        actor=CaseParty(
            username=entry.actor_username,
            role=entry.actor_role,
            org=entry.actor_org,
            province=entry.actor_province,
        ),
        opinion=entry.opinion,
        evidence=[EvidenceRef.model_validate(e) for e in entry.evidence],
        at=entry.at.isoformat(),
    )


async def load(session: AsyncSession, case: TransferCase, here: str) -> CaseCopy:
    entries = await timeline_of(session, case.id)
    return CaseCopy(
        transfer_id=case.id,
        kind=TransferKind(case.kind),
        here=here,
        origin_province=case.origin_province,
        dest_province=case.dest_province,
        chain=tuple(ReviewLevel(level) for level in case.chain),
        progress=case.progress(),
        lines=tuple(line_of(entry) for entry in entries),
        origin_check=case.origin_checked,
        destination_check=case.dest_checked,
        check_reasons=tuple(case.check_reasons or ()),
        cancel_requested=case.cancel_requested,
        records_arrived=case.records_arrived,
    )


def _entry(transfer_id: str, seq: int, line: TimelineLine) -> TimelineEntry:
    return TimelineEntry(
        transfer_id=transfer_id,
        step_id=line.step_id,
        seq=seq,
        action=line.action,
        level=line.level,
        state_after=line.state_after,
        pending_level_after=line.pending_level_after,
        actor_username=line.actor.username,
        actor_role=line.actor.role,
        actor_org=line.actor.org,
        actor_province=line.actor.province,
        opinion=line.opinion,
        evidence=[e.model_dump(mode="json") for e in line.evidence],
        at=datetime.fromisoformat(line.at),
    )


def copy_columns(copy: CaseCopy) -> dict[str, Any]:
    """The columns of ``transfer_case`` a copy's state decides."""
    return {
        "state": copy.progress.state.value,
        "pending_level": copy.progress.pending.value if copy.progress.pending else None,
        "origin_checked": copy.origin_check,
        "dest_checked": copy.destination_check,
        "check_reasons": list(copy.check_reasons),
        "cancel_requested": copy.cancel_requested,
        "records_arrived": copy.records_arrived,
    }


async def add_lines(session: AsyncSession, transfer_id: str, lines: tuple[TimelineLine, ...]) -> None:
    if not lines:
        return
    last = await session.scalar(
        select(func.coalesce(func.max(TimelineEntry.seq), 0)).where(TimelineEntry.transfer_id == transfer_id)
    )
    for offset, line in enumerate(lines, start=1):
        session.add(_entry(transfer_id, (last or 0) + offset, line))
        # One span per line, so a trace shows each step where it was taken or replayed.
        name = _step_name(line)
        tracer.start_span(
            f"transfer step {name}", attributes={ATTR_TRANSFER_ID: transfer_id, ATTR_TRANSFER_STEP: name}
        ).end()
    await session.flush()  # the step-id constraint speaks now, inside this unit of work


async def store(uow: UnitOfWork, case: TransferCase, before: CaseCopy, outcome: Outcome) -> CaseCopy:
    """Write ``outcome`` to the locked ``case``; returns the copy as stored (after any parked
    messages it freed were applied too)."""
    after = outcome.copy
    now = datetime.now(UTC)
    new_lines = after.lines[len(before.lines) :]
    for column, value in copy_columns(after).items():
        setattr(case, column, value)
    if after.progress != before.progress:
        case.pending_since = now
        if after.progress.state in TERMINAL_STATES:
            case.ended_at = now
    case.updated_at = now
    await add_lines(uow.session, case.id, new_lines)
    for effect in outcome.effects:
        _emit(uow, case, effect)
    if after.progress != before.progress or new_lines:
        return await offer_parked(uow, case, after)
    return after


def _step_name(line: TimelineLine) -> str:
    return f"{line.action}:{line.level}" if line.level else line.action


def _emit(uow: UnitOfWork, case: TransferCase, effect: SendStep | SendCancelRequest | MoveRecords) -> None:
    correlation = UUID(case.id)
    if isinstance(effect, SendStep):
        uow.emit(
            CaseStepTaken(transfer_id=case.id, line=effect.line),
            subject=case.id,
            correlation_id=correlation,
            to_province=effect.to,
        )
    elif isinstance(effect, SendCancelRequest):
        uow.emit(
            CancelRequested(transfer_id=case.id, line=effect.line),
            subject=case.id,
            correlation_id=correlation,
            to_province=effect.to,
        )
    else:
        # Every level approved: enrollment here releases the record (自动调档) or moves it.
        uow.emit(
            TransferApproved(
                transfer_id=case.id,
                kind=case.kind,
                student_number=case.student_number,
                to_province=case.dest_province,
                destination=Lineage(
                    province=case.dest_province,
                    city=case.dest_city,
                    county=case.dest_county,
                    school=case.dest_school,
                ),
                destination_class_id=case.dest_class_id,
            ),
            subject=case.student_id or case.id,
            correlation_id=correlation,
        )


async def park(session: AsyncSession, transfer_id: str, message_kind: str, line: TimelineLine) -> None:
    session.add(
        ParkedMessage(transfer_id=transfer_id, message_kind=message_kind, line=line.model_dump(mode="json"))
    )
    await session.flush()


async def offer_parked(uow: UnitOfWork, case: TransferCase, copy: CaseCopy) -> CaseCopy:
    """Apply the case's parked messages that fit now, until none does (also when a copy has just
    been opened: a line may have overtaken the case that opens it).

    Applies the first that fits and hands the outcome to ``store``, which calls back here after
    the change: one parked message fewer each round, so the recursion ends. A message that did
    not fit before this change may fit after it, which is why the rest are offered again rather
    than in one pass."""
    parked = await uow.session.scalars(
        select(ParkedMessage).where(ParkedMessage.transfer_id == case.id).order_by(ParkedMessage.id)
    )
    for message in parked.all():
        try:
            outcome = receiver(message.message_kind)(copy, TimelineLine.model_validate(message.line))
        except NotYet:
            continue
        await uow.session.execute(delete(ParkedMessage).where(ParkedMessage.id == message.id))
        return await store(uow, case, copy, outcome)
    return copy
