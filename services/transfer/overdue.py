"""Review steps past their 10 working days (domain/deadlines.py): flagged once to the superior
office, listed, and — past the expiry — the case expired by the province holding it.

``OverdueSweeper`` (a background task every ``transfer_sweep_seconds``) does both over the cases
this province holds: a case under review whose pending level is on this province's side. A case
whose records move is not swept: the move is the systems' to finish, not an office's to chase.

Two processes may sweep at once: each case is handled in its own unit of work under its row lock
taken with SKIP LOCKED (a case another sweeper or a reviewer holds waits for the next sweep), a
flag is one row per (case, level), and the expiry line's id derives from the case, so nothing
is flagged, announced or expired twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.transfer.domain.case_copy import StepInput, decide, system_actor
from services.transfer.domain.deadlines import (
    REVIEW_WORKDAYS,
    expiry_opinion,
    has_expired,
    is_overdue,
    review_due,
    superior_of,
    superior_org,
)
from services.transfer.domain.review_levels import ReviewLevel, Side
from services.transfer.domain.transfer_process import CaseState, Expire, TransitionNotAllowed
from services.transfer.models import OverdueFlag, TransferCase
from services.transfer.steps import load, store
from shared.bus.unit_of_work import UnitOfWork
from shared.calendar_store import ensure_calendar, load_calendar
from shared.china_time import CHINA, today_in_china
from shared.events.transfer import TransferStepOverdue
from shared.periodic import PeriodicTask
from shared.service import ServiceContext
from shared.workdays import WorkdayCalendar

log = logging.getLogger(__name__)

CALENDAR_KEY = "calendar"
SWEEPER_KEY = "transfer_overdue_sweeper"


def calendar(ctx: ServiceContext) -> WorkdayCalendar:
    return cast(WorkdayCalendar, ctx.extras[CALENDAR_KEY])


def due_on_since(pending_since: datetime, calendar: WorkdayCalendar) -> date:
    """The due date of a level waiting since ``pending_since``, counted from that day in China
    (the calendar's days are China's)."""
    return review_due(pending_since.astimezone(CHINA).date(), calendar).due_on


def due_on_for(case: TransferCase, calendar: WorkdayCalendar) -> date | None:
    """The pending level's due date; None when the case waits for no review (records moving,
    or ended). By the calendar passed in: the holder's is the one that counts, and a copy in
    the other province shows its own (the national holidays make them the same)."""
    if case.state != CaseState.UNDER_REVIEW.value or case.pending_level is None:
        return None
    return due_on_since(case.pending_since, calendar)


def held_here(province: str) -> ColumnElement[bool]:
    """Cases under review whose pending level's office is in ``province``."""
    origin = [level.value for level in ReviewLevel if level.side is Side.ORIGIN]
    destination = [level.value for level in ReviewLevel if level.side is Side.DESTINATION]
    return and_(
        TransferCase.state == CaseState.UNDER_REVIEW.value,
        or_(
            and_(TransferCase.pending_level.in_(origin), TransferCase.origin_province == province),
            and_(TransferCase.pending_level.in_(destination), TransferCase.dest_province == province),
        ),
    )


@dataclass
class SweepReport:
    flagged: list[str] = field(default_factory=list)  # transfer ids
    expired: list[str] = field(default_factory=list)


async def sweep(ctx: ServiceContext) -> SweepReport:
    """Flag this province's late steps and expire its cases past the expiry, each case in its
    own unit of work (one bad case does not hold back the rest)."""
    here, on = ctx.settings.province, ctx.today()
    cal = calendar(ctx)
    # 10 working days span at least 10 calendar days: older cases are the only candidates.
    waiting_since_before = datetime.combine(on - timedelta(days=REVIEW_WORKDAYS), time(), CHINA)
    async with ctx.sessionmaker() as session:
        candidates = (
            await session.execute(
                select(TransferCase.id, TransferCase.pending_since, OverdueFlag.level)
                .outerjoin(
                    OverdueFlag,
                    and_(
                        OverdueFlag.transfer_id == TransferCase.id,
                        OverdueFlag.level == TransferCase.pending_level,
                    ),
                )
                .where(held_here(here), TransferCase.pending_since < waiting_since_before)
                .order_by(TransferCase.pending_since)
            )
        ).all()
    report = SweepReport()
    for transfer_id, pending_since, flagged_level in candidates:
        due = due_on_since(pending_since, cal)
        expiring = has_expired(due, on, cal, ctx.settings.transfer_expiry_workdays)
        if is_overdue(due, on) and (flagged_level is None or expiring):
            await _sweep_case(ctx, transfer_id, on, cal, report)
    return report


async def _sweep_case(
    ctx: ServiceContext, transfer_id: str, on: date, cal: WorkdayCalendar, report: SweepReport
) -> None:
    here = ctx.settings.province
    async with ctx.uow() as uow:
        case = await uow.session.scalar(
            select(TransferCase)
            .where(TransferCase.id == transfer_id, held_here(here))
            .with_for_update(skip_locked=True)
        )
        if case is None:
            return  # decided meanwhile, or locked by a reviewer or another sweeper: next sweep
        assert case.pending_level is not None  # held_here: under review
        level = ReviewLevel(case.pending_level)
        due = due_on_since(case.pending_since, cal)
        if not is_overdue(due, on):
            return
        if await _flag(uow, case, level, due):
            report.flagged.append(case.id)
        if has_expired(due, on, cal, ctx.settings.transfer_expiry_workdays) and await _expire(
            uow, case, level, due, here
        ):
            report.expired.append(case.id)
        await uow.commit()


async def _flag(uow: UnitOfWork, case: TransferCase, level: ReviewLevel, due: date) -> bool:
    """Record the flag and announce it, unless this (case, level) was flagged before."""
    rank, org = superior_of(level), superior_org(level, case.lineage())
    inserted = await uow.session.scalar(
        insert(OverdueFlag)
        .values(transfer_id=case.id, level=level.value, due_on=due, superior_level=rank, superior_org=org)
        .on_conflict_do_nothing(index_elements=[OverdueFlag.transfer_id, OverdueFlag.level])
        .returning(OverdueFlag.transfer_id)
    )
    if inserted is None:
        return False
    uow.emit(
        TransferStepOverdue(
            transfer_id=case.id,
            kind=case.kind,
            level=level.value,
            due_on=due,
            superior_level=rank,
            superior_org=org,
        ),
        subject=case.id,
        correlation_id=UUID(case.id),
    )
    return True


async def _expire(uow: UnitOfWork, case: TransferCase, level: ReviewLevel, due: date, here: str) -> bool:
    """The holder's system ends the case; ``store`` writes the line and tells the other province."""
    before = await load(uow.session, case, here)
    step = StepInput(
        step_id=f"{case.id}/expire",
        actor=system_actor(here),
        at=datetime.now(UTC).isoformat(),
        opinion=expiry_opinion(level, due),
    )
    try:
        outcome = decide(before, Expire(), step)
    except TransitionNotAllowed as refusal:
        log.warning("transfer %s: not expired: %s", case.id, refusal.reason)
        return False
    await store(uow, case, before, outcome)
    return True


class OverdueSweeper(PeriodicTask):
    """Runs ``sweep`` every ``transfer_sweep_seconds`` (± jitter), reloading the calendar first so
    a schedule an administrator imported counts from the next sweep on."""

    name = "transfer-overdue-sweeper"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, ctx.settings.transfer_sweep_seconds)

    async def step(self) -> None:
        async with self.ctx.sessionmaker() as session:
            self.ctx.extras[CALENDAR_KEY] = await load_calendar(session)
        report = await sweep(self.ctx)
        if report.flagged or report.expired:
            log.info(
                "transfer sweep: %d step(s) flagged overdue, %d case(s) expired",
                len(report.flagged),
                len(report.expired),
            )


async def start_deadlines(ctx: ServiceContext) -> None:
    """At start: the province's calendar (seeded where missing), then the sweeper."""
    async with ctx.sessionmaker() as session:
        ctx.extras[CALENDAR_KEY] = await ensure_calendar(session, today_in_china())
    sweeper = OverdueSweeper(ctx)
    ctx.extras[SWEEPER_KEY] = sweeper
    sweeper.start()
