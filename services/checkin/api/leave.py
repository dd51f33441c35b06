"""Leave (请假/销假): the student asks, the counselor or the school registrar decides, the student
or a decider ends it (domain/leave_request.py). More than 15 days of granted leave in one term
proposes the student for suspension to enrollment, once per term (domain/leave_limit.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin.api.common import PROBLEM, READERS
from services.checkin.domain.eligibility import IN_SCHOOL, ON_LEAVE_STATUS
from services.checkin.domain.leave_limit import (
    LEAVE_LIMIT_DAYS,
    MAX_LEAVE_DAYS,
    exceeds_leave_limit,
    leave_days_per_term,
    terms_of,
)
from services.checkin.domain.leave_request import (
    GRANTED,
    STANDING,
    LeaveAction,
    LeaveState,
    TransitionNotAllowed,
    end_refusal,
    taken_span,
    transition,
)
from services.checkin.domain.terms import term_of
from services.checkin.models import Leave, StudentView
from services.checkin.models.leave_limit import SuspensionProposal
from services.checkin.round_lists import counted, visible
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.checkin import SuspensionProposed
from shared.problems import conflict, field_problem, forbidden, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["leave"])
DECIDERS = (Role.COUNSELOR, Role.SCHOOL_REGISTRAR)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "Not the student, their counselor or their school's registrar", **PROBLEM},
    404: {"description": "No such leave (or student) in the caller's jurisdiction", **PROBLEM},
    409: {"description": "Overlaps another leave, or the leave is not in a state for this", **PROBLEM},
    422: {"description": "A field is invalid; the body names it", **PROBLEM},
}


class LeaveRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    starts_on: date
    ends_on: date = Field(description="the last day away (inclusive)")
    reason: str = Field(min_length=2, max_length=500)

    @model_validator(mode="after")
    def _period(self) -> LeaveRequestBody:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if (self.ends_on - self.starts_on).days + 1 > MAX_LEAVE_DAYS:
            raise ValueError(f"a leave is at most {MAX_LEAVE_DAYS} days; a longer absence is a suspension")
        return self


class LeaveDecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    opinion: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> LeaveDecisionBody:
        if self.decision == "reject" and not self.opinion:
            raise ValueError("a rejection states its opinion (opinion)")
        return self


class LeaveEndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_on: date = Field(description="销假: the last day actually away")


class LeaveView(BaseModel):
    id: UUID
    student_id: str
    student_name: str
    school_code: str
    term: str
    starts_on: date
    ends_on: date
    ended_on: date | None
    days: int = Field(description="days taken (or asked for): up to ended_on once ended early")
    reason: str
    state: LeaveState
    decided_by: str | None
    decided_at: datetime | None
    opinion: str | None
    ended_by: str | None
    end_reason: str | None = Field(description="转学 when a transfer ended or cancelled it")
    requested_at: datetime


class LeavePage(BaseModel):
    total: int
    items: list[LeaveView]


class TermLeave(BaseModel):
    student_id: str
    term: str
    granted_days: int
    limit_days: int = LEAVE_LIMIT_DAYS
    suspension_proposed: bool


def _view(leave: Leave, student_name: str) -> LeaveView:
    span = taken_span(leave.starts_on, leave.ends_on, leave.ended_on)
    return LeaveView(
        id=leave.id,
        student_id=leave.student_id,
        student_name=student_name,
        school_code=leave.school_code,
        term=leave.term,
        starts_on=leave.starts_on,
        ends_on=leave.ends_on,
        ended_on=leave.ended_on,
        days=(span.last - span.first).days + 1,
        reason=leave.reason,
        state=LeaveState(leave.state),
        decided_by=leave.decided_by,
        decided_at=leave.decided_at,
        opinion=leave.opinion,
        ended_by=leave.ended_by,
        end_reason=leave.end_reason,
        requested_at=leave.requested_at,
    )


async def _lock_student(session: AsyncSession, student_id: str) -> None:
    """One leave change per student at a time: the overlap check and the term's count read what
    the other would write (two approvals of 10 days each must see each other)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"checkin.leave:{student_id}"}
    )


async def _leave_of(session: AsyncSession, principal: Principal, leave_id: UUID) -> tuple[Leave, str]:
    row = (
        await session.execute(
            visible(
                select(Leave, StudentView.name).join(StudentView, StudentView.student_id == Leave.student_id),
                principal,
            ).where(Leave.id == leave_id)
        )
    ).first()
    if row is None:
        raise not_found(f"leave {leave_id}")
    return row[0], row[1]


async def _standing_leaves(session: AsyncSession, student_id: str) -> list[Leave]:
    return list(
        await session.scalars(
            select(Leave).where(Leave.student_id == student_id, Leave.state.in_([s.value for s in STANDING]))
        )
    )


@router.post("/leaves", status_code=201, summary="A student asks for leave (请假)", responses=_RESPONSES)
async def request_leave(body: LeaveRequestBody, principal: CurrentPrincipal, ctx: Context) -> LeaveView:
    require_role(principal, Role.STUDENT)
    if principal.student_id is None:
        raise forbidden("this student account is not linked to a student record")
    async with ctx.uow() as uow:
        student = await uow.session.get(StudentView, principal.student_id)
        if student is None:
            raise not_found(f"student {principal.student_id}")
        if student.status not in (IN_SCHOOL, ON_LEAVE_STATUS):
            # A suspended or withdrawn student is not called to rounds: there is nothing to be
            # excused from, and leave would count against a term they are not studying in.
            raise conflict(
                f"a student whose status is {student.status} does not take leave", slug="leave-status"
            )
        await _lock_student(uow.session, student.student_id)
        asked = taken_span(body.starts_on, body.ends_on, None)
        for other in await _standing_leaves(uow.session, student.student_id):
            if taken_span(other.starts_on, other.ends_on, other.ended_on).overlaps(asked):
                raise conflict(
                    f"overlaps leave {other.id} ({other.starts_on}–{other.ends_on}, {other.state})",
                    slug="leave-overlap",
                )
        leave = Leave(
            student_id=student.student_id,
            school_code=student.school_code,
            term=term_of(body.starts_on),
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            reason=body.reason,
            state=LeaveState.REQUESTED.value,
            requested_at=datetime.now(UTC),
        )
        uow.session.add(leave)
        await uow.commit()
    return _view(leave, student.name)


def _may_decide(principal: Principal) -> None:
    """The counselor of the student or the registrar of the school; whose student it is, the
    jurisdiction filter in the query has already settled."""
    require_role(principal, *DECIDERS)


@router.get("/leaves", summary="Leave in the caller's jurisdiction", responses=_RESPONSES)
async def list_leaves(
    principal: CurrentPrincipal,
    ctx: Context,
    state: LeaveState | None = None,
    student_id: Annotated[str | None, Query(max_length=40)] = None,
    term: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(spring|autumn)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> LeavePage:
    require_role(principal, *READERS)
    query = visible(
        select(Leave, StudentView.name).join(StudentView, StudentView.student_id == Leave.student_id),
        principal,
    )
    if state is not None:
        query = query.where(Leave.state == state.value)
    if student_id is not None:
        query = query.where(Leave.student_id == student_id)
    if term is not None:
        query = query.where(Leave.term == term)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(counted(query)) or 0
        rows = (
            await session.execute(
                query.order_by(Leave.requested_at.desc(), Leave.id).limit(limit).offset(offset)
            )
        ).all()
    return LeavePage(total=total, items=[_view(leave, name) for leave, name in rows])


@router.get("/leaves/{leave_id}", summary="One leave", responses=_RESPONSES)
async def get_leave(leave_id: UUID, principal: CurrentPrincipal, ctx: Context) -> LeaveView:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        leave, name = await _leave_of(session, principal, leave_id)
    return _view(leave, name)


def _since_last_move() -> ColumnElement[bool]:
    """Leave asked for at the student's present school: a transfer starts the count anew
    (DOMAIN.md "Transfers"; moving.py ended what was open at the old school)."""
    return ~exists().where(
        StudentView.student_id == Leave.student_id,
        StudentView.counting_since.is_not(None),
        Leave.requested_at < StudentView.counting_since,
    )


async def _propose_suspension_if_over(uow: UnitOfWork, leave: Leave) -> None:
    """After a grant: each term the leave touches whose granted days now pass 15 proposes the
    student for suspension — once per term (the proposal row's key)."""
    touched = terms_of(taken_span(leave.starts_on, leave.ends_on, leave.ended_on), term_of)
    # A term is at most ~6 months, a leave at most 180 days: a year each side finds every leave
    # that can share a term with this one.
    granted = await uow.session.scalars(
        select(Leave).where(
            Leave.student_id == leave.student_id,
            Leave.state.in_([s.value for s in GRANTED]),
            Leave.starts_on >= leave.starts_on - timedelta(days=366),
            Leave.starts_on <= leave.ends_on + timedelta(days=366),
            _since_last_move(),
        )
    )
    per_term = leave_days_per_term((taken_span(g.starts_on, g.ends_on, g.ended_on) for g in granted), term_of)
    for term in sorted(touched):
        days = per_term.get(term, 0)
        if not exceeds_leave_limit(days):
            continue
        inserted = await uow.session.scalar(
            insert(SuspensionProposal)
            .values(student_id=leave.student_id, term=term, school_code=leave.school_code, leave_days=days)
            .on_conflict_do_nothing()
            .returning(SuspensionProposal.term)
        )
        if inserted is not None:
            uow.emit(
                SuspensionProposed(
                    student_id=leave.student_id, school_code=leave.school_code, term=term, leave_days=days
                ),
                subject=leave.student_id,
            )


@router.post(
    "/leaves/{leave_id}/decision",
    summary="The counselor or the school registrar approves or rejects, with an opinion",
    responses=_RESPONSES,
)
async def decide_leave(
    leave_id: UUID, body: LeaveDecisionBody, principal: CurrentPrincipal, ctx: Context
) -> LeaveView:
    _may_decide(principal)
    action = LeaveAction.APPROVE if body.decision == "approve" else LeaveAction.REJECT
    async with ctx.uow() as uow:
        leave, name = await _leave_of(uow.session, principal, leave_id)
        await _lock_student(uow.session, leave.student_id)
        await uow.session.refresh(leave)  # the state as of holding the lock
        try:
            leave.state = transition(LeaveState(leave.state), action).value
        except TransitionNotAllowed as exc:
            raise conflict(str(exc), slug="leave-state") from exc
        leave.decided_by = principal.account_id
        leave.decided_at = datetime.now(UTC)
        leave.opinion = body.opinion
        await uow.session.flush()
        if action is LeaveAction.APPROVE:
            await _propose_suspension_if_over(uow, leave)
        await uow.commit()
    return _view(leave, name)


@router.post(
    "/leaves/{leave_id}/end",
    summary="销假: the student (or a decider) ends an approved leave, early or on its last day",
    responses=_RESPONSES,
)
async def end_leave(
    leave_id: UUID, body: LeaveEndBody, principal: CurrentPrincipal, ctx: Context
) -> LeaveView:
    require_role(principal, Role.STUDENT, *DECIDERS)
    async with ctx.uow() as uow:
        leave, name = await _leave_of(uow.session, principal, leave_id)
        await _lock_student(uow.session, leave.student_id)
        await uow.session.refresh(leave)
        refusal = end_refusal(leave.starts_on, leave.ends_on, body.ended_on)
        if refusal is not None:
            raise field_problem("ended_on", refusal, "销假日期须在请假期间内")
        try:
            leave.state = transition(LeaveState(leave.state), LeaveAction.END).value
        except TransitionNotAllowed as exc:
            raise conflict(str(exc), slug="leave-state") from exc
        leave.ended_on = body.ended_on
        leave.ended_by = principal.account_id
        await uow.commit()
    return _view(leave, name)


@router.get(
    "/students/{student_id}/leave-days",
    summary="Granted leave days of a student in a term, against the 15-day limit",
    responses=_RESPONSES,
)
async def term_leave(
    student_id: Annotated[str, Path(max_length=40)],
    principal: CurrentPrincipal,
    ctx: Context,
    term: Annotated[str, Query(pattern=r"^[0-9]{4}-(spring|autumn)$")],
) -> TermLeave:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        seen = await session.scalar(
            visible(select(StudentView.student_id), principal).where(StudentView.student_id == student_id)
        )
        if seen is None:
            raise not_found(f"student {student_id}")
        granted = await session.scalars(
            select(Leave).where(
                Leave.student_id == student_id,
                Leave.state.in_([s.value for s in GRANTED]),
                _since_last_move(),
            )
        )
        days = leave_days_per_term(
            (taken_span(g.starts_on, g.ends_on, g.ended_on) for g in granted), term_of
        ).get(term, 0)
        proposed = await session.get(SuspensionProposal, (student_id, term))
    return TermLeave(
        student_id=student_id, term=term, granted_days=days, suspension_proposed=proposed is not None
    )
