"""Taking a step of a case: the transition, the timeline line, and the step event for the other
province, inside the caller's unit of work. Routes and handlers both take steps through here, so
every step is recorded, traced and told to the partner the same way."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.transfer.domain.cross_province_transfer import (
    Action,
    Approve,
    Cancel,
    CrossProvinceTransferState,
    RecordsMoved,
    Reject,
    ReviewLevel,
    transition,
)
from services.transfer.models import TransferCase, TransferStep
from shared.bus.unit_of_work import UnitOfWork
from shared.events.transfer import CaseParty, CaseStepTaken
from shared.telemetry import ATTR_TRANSFER_ID, ATTR_TRANSFER_STEP

tracer = trace.get_tracer("xueji.transfer")

SYSTEM_ROLE = "system"


def system_actor(province: str) -> CaseParty:
    """The system of a province, for steps no person takes (a failed check, records moved)."""
    return CaseParty(username="system", role=SYSTEM_ROLE, org=province, province=province)


def step_name(action: Action) -> str:
    level = getattr(action, "level", None)
    return f"{action.name}:{level.value}" if level is not None else action.name


def partner_of(case: TransferCase, province: str) -> str:
    """The other province of a case, seen from ``province``."""
    return case.origin_province if province == case.dest_province else case.dest_province


async def case_for_update(session: AsyncSession, transfer_id: str) -> TransferCase | None:
    """The case, locked until the unit of work ends: steps on one case happen one at a time."""
    case: TransferCase | None = await session.scalar(
        select(TransferCase).where(TransferCase.id == transfer_id).with_for_update()
    )
    return case


async def append_step(
    session: AsyncSession,
    case: TransferCase,
    *,
    action: str,
    level: str | None,
    actor: CaseParty,
    opinion: str,
    at: datetime,
) -> TransferStep:
    """Add a line to the case's timeline (the case must be locked or new)."""
    last = await session.scalar(
        select(func.coalesce(func.max(TransferStep.seq), 0)).where(TransferStep.transfer_id == case.id)
    )
    step = TransferStep(
        id=str(uuid7()),
        transfer_id=case.id,
        seq=(last or 0) + 1,
        action=action,
        level=level,
        state_after=case.state,
        actor_username=actor.username,
        actor_role=actor.role,
        actor_org=actor.org,
        actor_province=actor.province,
        opinion=opinion,
        at=at,
    )
    session.add(step)
    await session.flush()  # the seq constraint speaks now, inside this unit of work
    return step


async def take_step(
    uow: UnitOfWork,
    case: TransferCase,
    action: Action,
    *,
    actor: CaseParty,
    at: datetime,
    opinion: str = "",
    tell: str | None,
) -> TransferStep:
    """Apply ``action`` to a locked case and record it. ``tell`` is the province to send the step
    to; None when the step came from there. Raises ``TransitionNotAllowed``."""
    name = step_name(action)
    with tracer.start_as_current_span(
        f"transfer step {name}", attributes={ATTR_TRANSFER_ID: case.id, ATTR_TRANSFER_STEP: name}
    ):
        case.state = transition(CrossProvinceTransferState(case.state), action)
        case.updated_at = at
        level = getattr(action, "level", None)
        step = await append_step(
            uow.session,
            case,
            action=action.name,
            level=level.value if level is not None else None,
            actor=actor,
            opinion=opinion,
            at=at,
        )
        if tell is not None:
            uow.emit(
                CaseStepTaken(
                    transfer_id=case.id,
                    action=step.action,
                    level=step.level,
                    state_after=step.state_after,
                    actor=actor,
                    opinion=opinion,
                    at=at.isoformat(),
                ),
                subject=case.id,
                correlation_id=UUID(case.id),
                to_province=tell,
            )
    return step


class UnknownStep(ValueError):
    """A step event naming an action or level this version does not know."""


def replayed_action(step: CaseStepTaken) -> Action:
    """The action a partner's step stands for, to apply to our copy of the case.

    The destination school's approval is replayed with both checks as passed: the destination
    held that guard when it approved, and the origin's copy never learns the destination check.
    """
    try:
        level = ReviewLevel(step.level) if step.level is not None else None
    except ValueError as exc:
        raise UnknownStep(f"unknown review level {step.level!r}") from exc
    if step.action == Approve.name and level is not None:
        return Approve(level, origin_checked=True, destination_checked=True)
    if step.action == Reject.name:
        return Reject(level)
    if step.action == Cancel.name:
        return Cancel()
    if step.action == RecordsMoved.name:
        return RecordsMoved()
    raise UnknownStep(f"unknown step {step.action!r} at level {step.level!r}")
