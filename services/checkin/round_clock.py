"""Opens and closes rounds on time, with their notifications (issue 5, item 1; DOMAIN.md: "rounds
open and close automatically").

``advance_rounds(ctx, now)`` is one step of the clock: every round something is due for (per
domain/round_lifecycle.py) takes that move, each in its own unit of work with its event —
``RoundOpened``, ``RoundClosing`` or, with the misses (closing.py), ``RoundClosed``. The round's
row is taken ``FOR UPDATE SKIP LOCKED`` and its state re-read under the lock, so several checkin
processes running the clock at once each move a round at most once: the one holding the row
moves it, the others pass it by and find it moved on their next step.

``RoundClock`` runs the step every ``round_clock_seconds`` in each process; tests call
``advance_rounds`` with an explicit ``now`` instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select

from services.checkin.closing import record_misses
from services.checkin.domain.round_lifecycle import (
    RoundAction,
    RoundState,
    RoundTimes,
    next_action,
    transition,
)
from services.checkin.models import CheckIn, Round, RoundAttendance
from shared.bus.unit_of_work import UnitOfWork
from shared.events.checkin import RoundClosing, RoundNotice, RoundOpened
from shared.periodic import PeriodicTask
from shared.service import ServiceContext

log = logging.getLogger(__name__)

CLOCK_KEY = "round_clock"


@dataclass(frozen=True)
class Moved:
    round_id: uuid.UUID
    action: RoundAction


def _notice_fields(row: Round) -> dict[str, object]:
    return {
        "round_id": str(row.id),
        "kind": row.kind,
        "name": row.name,
        "term": row.term,
        "scope_level": row.scope_level,
        "scope_code": row.scope_code,
        "grades": list(row.grades or ()),
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
    }


def _notice(kind: type[RoundNotice], row: Round) -> RoundNotice:
    return kind.model_validate(_notice_fields(row))


async def _undecided(uow: UnitOfWork, row: Round) -> int:
    """Whether attempts of the round still wait for their face result (1 or 0: closing only
    needs to know if any do)."""
    # The attempt that counts for each student (a replaced attempt left waiting does not hold
    # the round open).
    waiting = await uow.session.scalar(
        select(
            exists().where(
                RoundAttendance.round_id == row.id,
                CheckIn.id == RoundAttendance.current_check_in_id,
                CheckIn.state == "awaiting_face",
            )
        )
    )
    return 1 if waiting else 0


async def _apply(uow: UnitOfWork, row: Round, action: RoundAction, now: datetime) -> None:
    row.state = transition(RoundState(row.state), action).value
    if action is RoundAction.OPEN:
        row.opened_at = now
        uow.emit(_notice(RoundOpened, row), subject=str(row.id))
    elif action is RoundAction.WARN_CLOSING:
        row.closing_notified_at = now
        uow.emit(_notice(RoundClosing, row), subject=str(row.id))
    else:
        row.closed_at = now
        await uow.session.flush()
        closed = await record_misses(uow, row)
        log.info(
            "round %s closed: %d eligible, %d completed, %d missed, %d prompt(s)",
            row.id,
            closed.eligible,
            closed.completed,
            closed.missed,
            len(closed.prompts),
        )


async def advance_rounds(
    ctx: ServiceContext, now: datetime, *, round_ids: Collection[uuid.UUID] | None = None
) -> list[Moved]:
    """One step of the clock at ``now``: every due move, oldest first, each committed with its
    event. ``round_ids`` limits the step to those rounds (tests share one database)."""
    settings = ctx.settings
    lead = timedelta(minutes=settings.round_closing_lead_minutes)
    settle = timedelta(minutes=settings.round_settle_minutes)
    due = or_(
        and_(Round.state == RoundState.SCHEDULED.value, Round.starts_at <= now),
        and_(
            Round.state == RoundState.OPEN.value,
            or_(Round.ends_at <= now, and_(Round.closing_notified_at.is_(None), Round.ends_at <= now + lead)),
        ),
    )
    moved: list[Moved] = []
    passed: set[uuid.UUID] = set()  # due by the coarse filter, but waiting (face results)
    while True:
        async with ctx.uow() as uow:
            query = select(Round).where(due)
            if round_ids is not None:
                query = query.where(Round.id.in_(list(round_ids)))
            if passed:
                query = query.where(Round.id.not_in(passed))
            row = await uow.session.scalar(
                query.order_by(Round.ends_at, Round.starts_at, Round.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return moved
            state = RoundState(row.state)
            waiting = await _undecided(uow, row) if state is RoundState.OPEN and now >= row.ends_at else 0
            times = RoundTimes(
                state, row.starts_at, row.ends_at, row.closing_notified_at is not None, waiting
            )
            action = next_action(times, now, closing_lead=lead, settle=settle)
            if action is None:
                passed.add(row.id)
                continue
            await _apply(uow, row, action, now)
            await uow.commit()
            moved.append(Moved(row.id, action))


class RoundClock(PeriodicTask):
    """Runs ``advance_rounds`` every ``round_clock_seconds`` (± jitter) in the background."""

    name = "checkin-round-clock"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, ctx.settings.round_clock_seconds)

    async def step(self) -> None:
        for moved in await advance_rounds(self.ctx, datetime.now(UTC)):
            log.info("round clock: round %s %s", moved.round_id, moved.action.value)


def start_round_clock(ctx: ServiceContext) -> RoundClock:
    """Starts the background task that opens, warns about and closes rounds."""
    clock = RoundClock(ctx)
    ctx.extras[CLOCK_KEY] = clock
    clock.start()
    return clock
