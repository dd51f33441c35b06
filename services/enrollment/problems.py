"""Problem records: opening them (the one entry point every check that finds a problem calls)
and moving a case along its state machine, in this province and, for an in-province pair, on
both schools' rows at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.domain.problem_arbiter import MINISTRY_ORG, Arbiter, SchoolPlace, common_superior
from services.enrollment.domain.problem_record_state import (
    Act,
    Arbitrate,
    ConfirmIdentity,
    Move,
    Outcome,
    ProblemKind,
    ProblemRecordState,
    Side,
    restarts_deadline,
    side_to_act,
    transition,
)
from services.enrollment.models import Student
from services.enrollment.models.problems import ProblemRecord, ProblemRecordStep
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.enrollment import ProblemRecordUpdated
from shared.workdays import WorkdayCalendar

RESOLUTION_WORKDAYS = 10  # DOMAIN.md: duplicate resolution within 10 working days


async def open_problem_record(
    session: AsyncSession,
    *,
    kind: str,
    student: Student,
    detail: str,
    acting_side: str,
    today: date,
    calendar: WorkdayCalendar,
    counterpart_student_id: str | None = None,
    counterpart_province: str | None = None,
    counterpart_ref: str | None = None,
    id_digest: str | None = None,
) -> str | None:
    """Open a problem record unless the same one is already open; returns its id if opened."""
    deadline = calendar.add_workdays(today, RESOLUTION_WORKDAYS)
    result = await session.execute(
        insert(ProblemRecord)
        .values(
            id=str(uuid7()),
            kind=kind,
            status="open",
            student_id=student.id,
            province_code=student.province_code,
            city_code=student.city_code,
            county_code=student.county_code,
            school_code=student.school_code,
            counterpart_student_id=counterpart_student_id,
            counterpart_province=counterpart_province,
            counterpart_ref=counterpart_ref,
            id_digest=id_digest,
            acting_side=acting_side,
            detail=detail,
            due_on=deadline.due_on,
            due_provisional=deadline.provisional,
        )
        .on_conflict_do_nothing()
        .returning(ProblemRecord.id)
    )
    return result.scalar_one_or_none()


# --- Handling a case (DOMAIN.md "Problem records"; domain/problem_record_state.py) --------------


def here_side(row: ProblemRecord) -> Side:
    """This row's student's side: the one that acts first is the later-registered one."""
    return Side.FIRST if row.acting_side == "here" else Side.SECOND


def side_of_province(row: ProblemRecord, province: str, own_province: str) -> Side:
    """In a cross-province case, which absolute side a province holds."""
    return here_side(row) if province == own_province else here_side(row).other


async def mirror_of(session: AsyncSession, row: ProblemRecord) -> ProblemRecord | None:
    """The other side's row of an in-province case (both schools keep one), locked."""
    if row.counterpart_student_id is None or row.counterpart_province is not None:
        return None
    found: ProblemRecord | None = await session.scalar(
        select(ProblemRecord)
        .where(
            ProblemRecord.kind == row.kind,
            ProblemRecord.student_id == row.counterpart_student_id,
            ProblemRecord.counterpart_student_id == row.student_id,
            ProblemRecord.counterpart_province.is_(None),
            ProblemRecord.status != ProblemRecordState.RESOLVED.value,
        )
        .with_for_update()
    )
    return found


async def counterpart_place(session: AsyncSession, row: ProblemRecord) -> SchoolPlace | None:
    if row.counterpart_student_id is None or row.counterpart_province is not None:
        return None
    other = await session.get(Student, row.counterpart_student_id)
    if other is None:
        return None
    return SchoolPlace(other.province_code, other.city_code, other.county_code)


def arbiter_for(row: ProblemRecord, other: SchoolPlace | None) -> Arbiter:
    if row.counterpart_province is not None and row.counterpart_province != row.province_code:
        return Arbiter("ministry", MINISTRY_ORG)
    here = SchoolPlace(row.province_code, row.city_code, row.county_code)
    # An in-province counterpart we cannot place (a record removed since): the province decides.
    return common_superior(here, other) if other else Arbiter("province", row.province_code)


@dataclass(frozen=True)
class Moved:
    """The outcome and every row it was applied to (this one and an in-province mirror)."""

    outcome: Outcome
    rows: list[ProblemRecord]


def announce(uow: UnitOfWork, moved: Moved) -> None:
    """The case's new state, once per row it moved, in the unit of work that moved it."""
    for row in moved.rows:
        uow.emit(
            ProblemRecordUpdated(
                problem_record_id=row.id,
                kind=row.kind,
                student_id=row.student_id,
                lineage=Lineage(
                    province=row.province_code,
                    city=row.city_code,
                    county=row.county_code,
                    school=row.school_code,
                ),
                state=moved.outcome.state.value,
                resolution=moved.outcome.resolution.value if moved.outcome.resolution else None,
            ),
            subject=row.student_id,
        )


@dataclass(frozen=True)
class StepBy:
    """Who made a move, where, with which evidence and note."""

    actor: str
    province: str
    evidence_id: str | None = None
    note: str = ""


def _move_name(move: Move) -> tuple[str, str | None]:
    if isinstance(move, Act):
        return move.choice.value, move.side.value
    if isinstance(move, Arbitrate):
        return "arbitrate", move.winner.value
    return ("confirm_identity" if isinstance(move, ConfirmIdentity) else "reject_identity"), None


async def take_move(
    session: AsyncSession,
    row: ProblemRecord,
    move: Move,
    by: StepBy,
    *,
    today: date,
    calendar: WorkdayCalendar,
) -> Moved:
    """Apply ``move`` to the case (this row and, in the province, its mirror) and log the step.

    Raises ``TransitionNotAllowed`` when the state machine refuses it; nothing is written then.
    """
    kind = ProblemKind(row.kind)
    before = ProblemRecordState(row.status)
    outcome = transition(kind, before, move)
    rows = [row]
    mirror = await mirror_of(session, row)
    if mirror is not None:
        rows.append(mirror)
    arbiter = None
    if outcome.state is ProblemRecordState.AWAITING_ARBITRATION:
        arbiter = arbiter_for(row, await counterpart_place(session, row))
    deadline = calendar.add_workdays(today, RESOLUTION_WORKDAYS)
    name, side = _move_name(move)
    now = datetime.now(UTC)
    for case_row in rows:
        case_row.status = outcome.state.value
        case_row.updated_at = now
        if outcome.state is ProblemRecordState.RESOLVED:
            case_row.resolution = outcome.resolution.value if outcome.resolution else None
            case_row.resolved_at = now
        if arbiter is not None:
            case_row.arbiter_level, case_row.arbiter_org = arbiter.level, arbiter.org
        if restarts_deadline(before, outcome.state):
            case_row.due_on, case_row.due_provisional = deadline.due_on, deadline.provisional
        session.add(
            ProblemRecordStep(
                problem_record_id=case_row.id,
                province=by.province,
                actor=by.actor,
                move=name,
                side=side,
                from_state=before.value,
                to_state=outcome.state.value,
                evidence_id=by.evidence_id if case_row is row else None,
                note=by.note,
            )
        )
    return Moved(outcome, rows)


async def open_case_for_digest(
    session: AsyncSession, *, kind: str, partner: str, id_digest: str
) -> ProblemRecord | None:
    """This province's copy of a cross-province case, found by what the partner sent, locked."""
    found: ProblemRecord | None = await session.scalar(
        select(ProblemRecord)
        .where(
            ProblemRecord.kind == kind,
            ProblemRecord.counterpart_province == partner,
            ProblemRecord.id_digest == id_digest,
            ProblemRecord.status != ProblemRecordState.RESOLVED.value,
        )
        .with_for_update()
    )
    return found


def awaiting_school(kind: ProblemKind) -> ColumnElement[bool]:
    """SQL: the row's own school must act now (its side is the side to act in its state),
    derived from the transition table so the queue can never disagree with the rules."""
    clauses = []
    for state in ProblemRecordState:
        side = side_to_act(kind, state)
        if side is not None:
            own = "here" if side is Side.FIRST else "counterpart"
            clauses.append(and_(ProblemRecord.status == state.value, ProblemRecord.acting_side == own))
    return and_(ProblemRecord.kind == kind.value, or_(*clauses))
