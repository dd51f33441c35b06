"""Pending actions (待办) over HTTP: the school registrar's list of what check-in's reports ask of
the school (missed rounds, leave past the limit), the bureaus' view of their area with the
overdue ones flagged, and the explicit link of a status change to an action (resolve).

An action is answered by a status change: start it with ``pending_action_id`` (api/status_changes.py)
or link an existing one here; it is resolved when that change is approved."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, select

from services.enrollment.api.reviews import RESPONSES
from services.enrollment.domain.pending_action import (
    ANSWERS_ZH,
    ActionKind,
    ActionState,
    Answer,
    Standing,
    answers,
)
from services.enrollment.domain.review_state import ReviewState
from services.enrollment.domain.status_change import ChangeType
from services.enrollment.models import Student
from services.enrollment.models.pending_actions import PENDING_ACTION_ORG, PendingAction
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.pending_actions import OPEN_REVIEW_STATES, answered, link_change, resolve_by_change
from services.enrollment.student_numbers import mask_student_number
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.events.common import Lineage
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["pending actions"])
READERS = (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE)


class PendingActionView(BaseModel):
    id: str
    kind: ActionKind
    title: str
    state: ActionState
    student_id: str
    student_name: str
    student_number_masked: str
    lineage: Lineage
    term: str
    detail: dict[str, Any] = Field(description="rule and missed rounds, or leave days")
    opened_on: date
    due_on: date
    due_provisional: bool
    overdue: bool = Field(description="open, past its deadline, and no answering change under review")
    overdue_flagged_on: date | None
    review_id: str | None = Field(description="the status change answering it")
    review_state: str | None
    resolved_at: datetime | None
    withdrawn_by_appeal: str | None
    reverted: bool = Field(description="an accepted appeal reverted the change made for it")


class PendingActionList(BaseModel):
    items: list[PendingActionView]
    total: int


def _overdue(action: PendingAction, review_state: str | None, on: date) -> bool:
    responded = review_state in OPEN_REVIEW_STATES
    return action.state == ActionState.OPEN.value and action.due_on < on and not responded


def _view(action: PendingAction, student: Student, review_state: str | None, on: date) -> PendingActionView:
    return PendingActionView(
        id=action.id,
        kind=ActionKind(action.kind),
        title=action.title,
        state=ActionState(action.state),
        student_id=student.id,
        student_name=student.name,
        student_number_masked=mask_student_number(student.student_number),
        lineage=Lineage(
            province=action.province_code,
            city=action.city_code,
            county=action.county_code,
            school=action.school_code,
        ),
        term=action.term,
        detail={k: v for k, v in action.detail.items() if k != "after"},
        opened_on=action.opened_on,
        due_on=action.due_on,
        due_provisional=action.due_provisional,
        overdue=_overdue(action, review_state, on),
        overdue_flagged_on=action.overdue_flagged_on,
        review_id=action.review_id,
        review_state=review_state,
        resolved_at=action.resolved_at,
        withdrawn_by_appeal=action.withdrawn_by_appeal,
        reverted=action.reverted,
    )


def _query(*conditions: Any) -> Any:
    return (
        select(PendingAction, Student, ReviewItem.state)
        .join(Student, Student.id == PendingAction.student_id)
        .outerjoin(ReviewItem, ReviewItem.id == PendingAction.review_id)
        .where(*conditions)
    )


@router.get(
    "/pending-actions",
    summary="Pending actions (待办): a registrar's school, a bureau's area; overdue ones flagged",
    responses=RESPONSES,
)
async def list_pending_actions(
    principal: CurrentPrincipal,
    ctx: Context,
    state: Annotated[
        Literal["open", "resolved", "withdrawn", "all"], Query(description="all: every state")
    ] = "open",
    kind: Annotated[ActionKind | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only open actions past their deadline, unanswered")] = False,
    student_id: Annotated[str | None, Query(max_length=40)] = None,
    city_code: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    county_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> PendingActionList:
    require_role(principal, *READERS)
    on = ctx.today()
    conditions: list[Any] = [jurisdiction_filter(principal, PENDING_ACTION_ORG)]
    # Narrowing inside the jurisdiction (the console's tree); never widening it.
    for column, value in (
        (PendingAction.city_code, city_code),
        (PendingAction.county_code, county_code),
        (PendingAction.school_code, school_code),
    ):
        if value is not None:
            conditions.append(column == value)
    if state != "all":
        conditions.append(PendingAction.state == state)
    if kind is not None:
        conditions.append(PendingAction.kind == kind.value)
    if student_id is not None:
        conditions.append(PendingAction.student_id == student_id)
    if overdue:
        conditions += [
            PendingAction.state == ActionState.OPEN.value,
            PendingAction.due_on < on,
            ~answered(),
        ]
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(PendingAction).where(and_(*conditions)))
        rows = (
            await session.execute(
                _query(*conditions)
                .order_by(PendingAction.due_on, PendingAction.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return PendingActionList(items=[_view(a, s, r, on) for a, s, r in rows], total=total or 0)


async def _one(ctx: Context, principal: Principal, action_id: str) -> PendingActionView:
    async with ctx.sessionmaker() as session:
        found = (
            await session.execute(
                _query(PendingAction.id == action_id, jurisdiction_filter(principal, PENDING_ACTION_ORG))
            )
        ).first()
    if found is None:
        raise not_found(f"pending action {action_id}")
    return _view(found[0], found[1], found[2], ctx.today())


@router.get("/pending-actions/{action_id}", summary="One pending action", responses=RESPONSES)
async def get_pending_action(
    action_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> PendingActionView:
    require_role(principal, *READERS)
    return await _one(ctx, principal, action_id)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_id: str = Field(max_length=40, description="the status change (review item) that answers it")


@router.post(
    "/pending-actions/{action_id}/resolve",
    summary="Answer a pending action with a status change already started (resolved when it is approved)",
    responses=RESPONSES,
)
async def resolve_pending_action(
    action_id: Annotated[str, Path(max_length=40)],
    body: ResolveBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> PendingActionView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    async with ctx.uow() as uow:
        action = await uow.session.scalar(
            select(PendingAction)
            .where(PendingAction.id == action_id, jurisdiction_filter(principal, PENDING_ACTION_ORG))
            .with_for_update()
        )
        if action is None:
            raise not_found(f"pending action {action_id}")
        if action.state != ActionState.OPEN.value:
            raise Problem(
                409,
                "Conflict",
                title_zh="该待办事项已办结或已撤回",
                slug="pending-action-closed",
                detail=f"the pending action is {action.state}",
            )
        item = await uow.session.scalar(
            select(ReviewItem)
            .where(ReviewItem.id == body.review_id, ReviewItem.student_id == action.student_id)
            .with_for_update()
        )
        if item is None or not item.business_type.startswith("status_change:"):
            raise field_problem("review_id", "no status change of this student", "该学生没有此学籍异动申请")
        change = ChangeType(item.business_type.split(":", 1)[1])
        kind = ActionKind(action.kind)
        if not answers(kind, Answer(change, item.payload.get("new_study_form"))):
            raise field_problem(
                "review_id",
                f"a {change.value} does not answer this action",
                f"该待办应办理{ANSWERS_ZH[kind]}",
            )
        if item.state == ReviewState.CANCELLED.value:
            raise field_problem("review_id", "the status change was withdrawn", "该学籍异动申请已撤销")
        await link_change(uow.session, action, item.id)
        if item.state == ReviewState.APPROVED.value:
            student = await uow.session.get(Student, action.student_id)
            assert student is not None
            await resolve_by_change(uow.session, item, Standing(student.status, student.study_form))
        await uow.commit()
    return await _one(ctx, principal, action_id)
