"""Appeals (申诉) against missed rounds and the prompts they raised (issue 5, item 5; seed 001
四.2; rules in domain/appeal_decision.py).

A student appeals about their own misses, the school registrar about a student's; the level
above decides — the school for a student's appeal, the county bureau for the school's. An
accepted appeal excuses its misses (they no longer count towards a miss rule) and withdraws
every open prompt built on them, with ``MissPromptWithdrawn`` so enrollment restores the
previous state. The prompts themselves are listed here too, since they are what is appealed.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, false, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import cast
from sqlalchemy.types import Text

from services.checkin.api.appeal_views import (
    AppealOut,
    AppealPage,
    PromptPage,
    described_appeal,
    newest_first,
)
from services.checkin.api.common import PROBLEM
from services.checkin.closing import lock_term_misses
from services.checkin.domain.appeal_decision import (
    AppealAlreadyDecided,
    AppealDecision,
    AppealState,
    Appellant,
    appellant_for,
    decide,
    may_decide,
)
from services.checkin.models import Appeal, CounselorView, Miss, MissPrompt, StudentView
from services.checkin.round_lists import StudentFilters
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role
from shared.china_time import today_in_china
from shared.events.checkin import MissPromptWithdrawn
from shared.problems import conflict, field_problem, forbidden, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["appeals"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "The caller may not lodge or decide this appeal", **PROBLEM},
    404: {"description": "No such appeal, prompt or student in your jurisdiction", **PROBLEM},
    409: {"description": "Already decided, or the misses are already under appeal", **PROBLEM},
    422: {"description": "A field is invalid; the body names it", **PROBLEM},
}


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student_id: str | None = Field(
        None, max_length=40, description="the school's appeal: whose misses; a student appeals about self"
    )
    prompt_id: uuid.UUID | None = Field(None, description="the prompt appealed against (its misses)")
    round_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=50, description="or: the missed rounds appealed against"
    )
    reason: str = Field(min_length=1, max_length=2000, description="申诉理由")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: AppealDecision
    opinion: str = Field(min_length=1, max_length=2000, description="处理意见")


def _round_ids_array(round_ids: list[str]) -> Any:
    return cast(round_ids, ARRAY(Text))


def student_filter(principal: Principal, student_id: Any, school_code: Any, county_code: Any) -> Any:
    """The caller's jurisdiction over rows that carry a student, their school and county (appeals
    and prompts have no city column: a city's counties share its code's first four digits)."""
    role, org = principal.role, principal.org
    if role is Role.PROVINCE:
        return true()
    if role is Role.CITY:
        return county_code.startswith(org)
    if role is Role.COUNTY:
        return county_code == org
    if role in SCHOOL_ROLES:
        return school_code == org
    if role is Role.COUNSELOR:
        return student_id.in_(
            select(CounselorView.student_id).where(CounselorView.counselor_account_id == principal.account_id)
        )
    if role is Role.STUDENT and principal.student_id is not None:
        return student_id == principal.student_id
    return false()


def visible_appeals(principal: Principal) -> ColumnElement[bool]:
    return student_filter(principal, Appeal.student_id, Appeal.school_code, Appeal.county_code)  # type: ignore[no-any-return]


def to_decide(principal: Principal) -> ColumnElement[bool]:
    """Pending appeals this caller decides (domain/appeal_decision.may_decide, as SQL)."""
    pending = Appeal.state == AppealState.PENDING.value
    if principal.role in SCHOOL_ROLES:
        return pending & (Appeal.appellant == Appellant.STUDENT.value) & (Appeal.school_code == principal.org)
    if principal.role is Role.COUNTY:
        return pending & (Appeal.appellant == Appellant.SCHOOL.value) & (Appeal.county_code == principal.org)
    return false()


# --- lodging ----------------------------------------------------------------------------------


async def _student_of(session: AsyncSession, principal: Principal, body: AppealIn) -> StudentView:
    appellant = appellant_for(principal.role)
    if appellant is None:
        raise forbidden(
            "only a student or the school registrar lodges an appeal; the levels above decide them"
        )
    if appellant is Appellant.STUDENT:
        if body.student_id is not None and body.student_id != principal.student_id:
            raise forbidden("a student appeals about their own misses only")
        student_id = principal.student_id
    else:
        if body.student_id is None:
            raise field_problem("student_id", "the school names the student it appeals for", "请指定学生")
        student_id = body.student_id
    row = await session.scalar(
        select(StudentView).where(
            StudentView.student_id == student_id,
            student_filter(
                principal, StudentView.student_id, StudentView.school_code, StudentView.county_code
            ),
        )
    )
    if row is None:
        raise not_found(f"student {student_id}")
    return row


async def _appealed_rounds(
    session: AsyncSession, student_id: str, body: AppealIn
) -> tuple[uuid.UUID | None, list[str], str]:
    """The prompt (if any), the missed rounds appealed against, and their term."""
    if (body.prompt_id is None) == (body.round_ids is None):
        raise field_problem(
            "prompt_id", "name either a prompt or missed rounds", "请指定提示信息或未完成的核验"
        )
    if body.prompt_id is not None:
        prompt = await session.scalar(
            select(MissPrompt).where(MissPrompt.id == body.prompt_id, MissPrompt.student_id == student_id)
        )
        if prompt is None:
            raise not_found(f"prompt {body.prompt_id}")
        if prompt.state != "open":
            raise conflict("the prompt has been withdrawn already", slug="prompt-withdrawn")
        round_ids = list(prompt.round_ids)
    else:
        assert body.round_ids is not None
        round_ids = sorted({str(r) for r in body.round_ids})
    misses = list(
        await session.scalars(
            select(Miss).where(
                Miss.student_id == student_id, Miss.round_id.in_([uuid.UUID(r) for r in round_ids])
            )
        )
    )
    found = {str(m.round_id) for m in misses}
    if missing := [r for r in round_ids if r not in found]:
        raise field_problem(
            "round_ids", f"not missed by this student: {', '.join(missing)}", "该学生未缺该次核验"
        )
    if [m for m in misses if m.excused]:
        raise field_problem("round_ids", "some of these misses are excused already", "部分核验已申诉通过")
    terms = {m.term for m in misses}
    if len(terms) != 1:
        raise field_problem(
            "round_ids", "an appeal concerns the misses of one term", "一次申诉只针对一个学期"
        )
    return body.prompt_id, round_ids, terms.pop()


@router.post(
    "/appeals",
    status_code=status.HTTP_201_CREATED,
    responses=_RESPONSES,
    summary="Appeal (申诉) against missed rounds or a prompt: a student about self, a school about a student",
)
async def lodge_appeal(body: AppealIn, principal: CurrentPrincipal, ctx: Context) -> AppealOut:
    async with ctx.uow() as uow:
        session = uow.session
        student = await _student_of(session, principal, body)
        prompt_id, round_ids, term = await _appealed_rounds(session, student.student_id, body)
        # One appeal at a time about a miss: two pending ones could be decided both ways.
        await lock_term_misses(session, term)
        clash = await session.scalar(
            select(Appeal.id).where(
                Appeal.student_id == student.student_id,
                Appeal.state == AppealState.PENDING.value,
                Appeal.round_ids.op("?|")(_round_ids_array(round_ids)),
            )
        )
        if clash is not None:
            raise conflict(f"these misses are already under appeal ({clash})", slug="appeal-pending")
        appellant = appellant_for(principal.role)
        assert appellant is not None
        row = Appeal(
            id=uuid.uuid4(),
            student_id=student.student_id,
            school_code=student.school_code,
            county_code=student.county_code,
            prompt_id=prompt_id,
            round_ids=round_ids,
            appellant=appellant.value,
            reason=body.reason,
            state=AppealState.PENDING.value,
        )
        session.add(row)
        await uow.commit()
        await session.refresh(row)
        return await described_appeal(session, row)


# --- reading ----------------------------------------------------------------------------------


@router.get(
    "/appeals",
    responses=_RESPONSES,
    summary="Appeals in your jurisdiction (newest first), or the queue you decide",
)
async def list_appeals(
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    queue: Annotated[bool, Query(description="only the pending appeals you decide")] = False,
    state: Annotated[Literal["pending", "accepted", "rejected"] | None, Query()] = None,
    student_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> AppealPage:
    query: Select[tuple[Appeal]] = select(Appeal).where(
        to_decide(principal) if queue else visible_appeals(principal)
    )
    if state is not None:
        query = query.where(Appeal.state == state)
    if student_id is not None:
        query = query.where(Appeal.student_id == student_id)
    if filters.model_dump(exclude_none=True):
        query = filters.apply(query.join(StudentView, StudentView.student_id == Appeal.student_id))
    async with ctx.sessionmaker() as session:
        total, rows, described = await newest_first(session, Appeal, query, limit, offset)
    return AppealPage(total=total, items=[described.appeal(row) for row in rows])


@router.get("/appeals/{appeal_id}", responses=_RESPONSES, summary="One appeal")
async def get_appeal(appeal_id: uuid.UUID, principal: CurrentPrincipal, ctx: Context) -> AppealOut:
    async with ctx.sessionmaker() as session:
        row = await session.scalar(select(Appeal).where(Appeal.id == appeal_id, visible_appeals(principal)))
        if row is None:
            raise not_found(f"appeal {appeal_id}")
        return await described_appeal(session, row)


@router.get(
    "/miss-prompts",
    responses=_RESPONSES,
    summary="Prompts raised by missed rounds (what is appealed), newest first",
)
async def list_prompts(
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    term: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(spring|autumn)$")] = None,
    state: Annotated[Literal["open", "withdrawn"] | None, Query()] = None,
    student_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> PromptPage:
    # Prompts carry no county: a bureau reaches them through the student read model.
    seen = student_filter(principal, StudentView.student_id, StudentView.school_code, StudentView.county_code)
    query = select(MissPrompt).join(StudentView, StudentView.student_id == MissPrompt.student_id).where(seen)
    query = filters.apply(query)
    if term is not None:
        query = query.where(MissPrompt.term == term)
    if state is not None:
        query = query.where(MissPrompt.state == state)
    if student_id is not None:
        query = query.where(MissPrompt.student_id == student_id)
    async with ctx.sessionmaker() as session:
        total, rows, described = await newest_first(session, MissPrompt, query, limit, offset)
    return PromptPage(total=total, items=[described.prompt(row) for row in rows])


# --- deciding ---------------------------------------------------------------------------------


@router.post(
    "/appeals/{appeal_id}/decision",
    responses=_RESPONSES,
    summary="Accept or reject an appeal (the level above the appellant), with an opinion",
)
async def decide_appeal(
    appeal_id: uuid.UUID, body: DecisionIn, principal: CurrentPrincipal, ctx: Context
) -> AppealOut:
    async with ctx.uow() as uow:
        session = uow.session
        row = await session.scalar(
            select(Appeal).where(Appeal.id == appeal_id, visible_appeals(principal)).with_for_update()
        )
        if row is None:
            raise not_found(f"appeal {appeal_id}")
        if not may_decide(
            Appellant(row.appellant), row.school_code, row.county_code, principal.role, principal.org
        ):
            decider = "the school" if row.appellant == Appellant.STUDENT.value else "the county bureau"
            raise forbidden(f"this appeal is decided by {decider} above the appellant")
        try:
            new_state = decide(AppealState(row.state), body.decision)
        except AppealAlreadyDecided as exc:
            raise conflict(str(exc), slug="appeal-decided") from None
        on = today_in_china()
        row.state = new_state.value
        row.decided_by = principal.account_id
        row.opinion = body.opinion
        row.decided_on = on
        withdrawn: list[uuid.UUID] = []
        if new_state is AppealState.ACCEPTED:
            withdrawn = await excuse(uow, row, on)
        await uow.commit()
        await session.refresh(row)
        return await described_appeal(session, row, withdrawn)


async def excuse(uow: Any, appeal: Appeal, on: date) -> list[uuid.UUID]:
    """Excuse the appeal's misses and withdraw the open prompts built on any of them."""
    session: AsyncSession = uow.session
    round_ids = list(appeal.round_ids)
    term = await session.scalar(
        select(Miss.term).where(
            Miss.student_id == appeal.student_id, Miss.round_id == uuid.UUID(round_ids[0])
        )
    )
    assert term is not None
    await lock_term_misses(session, term)
    await session.execute(
        update(Miss)
        .where(Miss.student_id == appeal.student_id, Miss.round_id.in_([uuid.UUID(r) for r in round_ids]))
        .values(excused=True)
    )
    prompts = list(
        await session.scalars(
            select(MissPrompt)
            .where(
                MissPrompt.student_id == appeal.student_id,
                MissPrompt.state == "open",
                MissPrompt.round_ids.op("?|")(_round_ids_array(round_ids)),
            )
            .with_for_update()
        )
    )
    for prompt in prompts:
        prompt.state = "withdrawn"
        uow.emit(
            MissPromptWithdrawn(
                prompt_id=str(prompt.id),
                student_id=prompt.student_id,
                school_code=prompt.school_code,
                appeal_id=str(appeal.id),
                excused_round_ids=[r for r in prompt.round_ids if r in set(round_ids)],
                decided_on=on,
            ),
            subject=prompt.student_id,
        )
    return [p.id for p in prompts]
