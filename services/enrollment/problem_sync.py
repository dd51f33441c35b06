"""Keeping this province's copy of a cross-province problem record in step with the partner's
(seed 002 跨省问题学籍处理: "处理结果发往另一方所在省"). Each province keeps its side; a move made
there arrives as a signed event and is replayed here through the same state machine, so the two
copies can only differ while an event is on its way."""

from __future__ import annotations

from services.enrollment.domain.problem_record_state import Act, Arbitrate, Choice, Move, Side
from services.enrollment.models.problems import ProblemRecord
from services.enrollment.problems import (
    StepBy,
    announce,
    here_side,
    open_case_for_digest,
    side_of_province,
    take_move,
)
from shared.bus.unit_of_work import UnitOfWork
from shared.calendar_store import load_calendar
from shared.china_time import today_in_china
from shared.events.enrollment import ProblemRecordActed, ProblemRecordArbitrated


async def _case(uow: UnitOfWork, kind: str, partner: str, id_digest: str) -> ProblemRecord:
    row = await open_case_for_digest(uow.session, kind=kind, partner=partner, id_digest=id_digest)
    if row is None:
        # Our copy may not be open yet (the duplicate check's event can still be on its way):
        # raising retries with backoff, and an operator sees it in the DLQ if it never comes.
        raise LookupError(f"no open {kind} problem record shared with province {partner} for this digest")
    return row


async def _replay(uow: UnitOfWork, row: ProblemRecord, move: Move, partner: str, note: str = "") -> None:
    calendar = await load_calendar(uow.session)
    moved = await take_move(
        uow.session,
        row,
        move,
        StepBy(f"partner:{partner}", partner, note=note),
        today=today_in_china(),
        calendar=calendar,
    )
    announce(uow, moved)


async def follow_partner_act(uow: UnitOfWork, event: ProblemRecordActed, partner: str) -> None:
    row = await _case(uow, event.kind, partner, event.id_digest)
    partner_side = here_side(row).other
    if Side(event.side) is not partner_side:
        raise ValueError(
            f"province {partner} acted as the {event.side} side, but our copy has it as {partner_side.value}"
        )
    # A refused move raises TransitionNotAllowed: the copies disagree, which an operator must see.
    await _replay(uow, row, Act(partner_side, Choice(event.choice)), partner)


async def follow_partner_arbitration(uow: UnitOfWork, event: ProblemRecordArbitrated, partner: str) -> None:
    row = await _case(uow, event.kind, partner, event.id_digest)
    if event.winner_province not in (partner, row.province_code):
        raise ValueError(f"arbitration names province {event.winner_province}, not a side of this case")
    winner = side_of_province(row, event.winner_province, row.province_code)
    await _replay(uow, row, Arbitrate(winner), partner, note=event.opinion)
