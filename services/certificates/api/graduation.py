"""Graduation routes: the pre-graduate list (预毕业生查询), graduation lists and their review along
the province's chain, the chain itself, and rolling back an issued graduation.

Every read carries the caller's jurisdiction in its query; every command is one unit of work
(graduation.py). Issuing an approved list is the issuing routes' (api/issuing.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.certificates.domain.graduation_readiness import may_list_year
from services.certificates.domain.graduation_review import (
    LEVEL_OF_ROLE,
    ChainNotAllowed,
    Level,
    ListState,
    valid_chain,
)
from services.certificates.graduation import (
    CHAIN_BUSINESS,
    STUDENT_COLUMNS,
    ListedStudent,
    PreGraduate,
    chain_of,
    configured_chain,
    decide,
    pre_graduates,
    review_of,
    roll_back,
    submit_list,
    visible_list,
)
from services.certificates.models import (
    GRADUATION_LIST_COLUMNS,
    GraduationChainConfig,
    GraduationEntry,
    GraduationList,
    GraduationReview,
    StudentView,
)
from shared.auth import BUREAU_ROLES, SCHOOL_ROLES, CurrentPrincipal, Role, require_role
from shared.events.certificates import GraduationOutcome
from shared.idnumber import mask_student_number
from shared.jurisdiction import REGION_OR_SCHOOL_PATTERN, jurisdiction_filter, within
from shared.problems import field_problem
from shared.service import Context
from shared.text import PlainText

router = APIRouter(prefix="/api/v1", tags=["graduation"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", **_PROBLEM},
    403: {"description": "Not yours to do", **_PROBLEM},
    404: {"description": "Not in your jurisdiction", **_PROBLEM},
    409: {"description": "The state does not allow it", **_PROBLEM},
    422: {"description": "A field is invalid", **_PROBLEM},
}
Year = Annotated[int, Field(ge=2000, le=2100)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
# A node of the jurisdiction tree; narrowing only, beside the jurisdiction filter.
Region = Annotated[
    str | None, Query(pattern=REGION_OR_SCHOOL_PATTERN, description="province/city/county/school code")
]
ListStateName = Literal["under_review", "approved", "returned", "issued"]
GRADUATION_READERS = (*SCHOOL_ROLES, *BUREAU_ROLES)


# --- bodies and views --------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntryBody(Strict):
    student_id: PlainText = Field(min_length=1, max_length=40)
    outcome: GraduationOutcome


class GraduationListBody(Strict):
    graduating_year: Year
    entries: list[EntryBody] = Field(min_length=1, max_length=10_000)


class DecisionBody(Strict):
    decision: Literal["approve", "return"]
    opinion: PlainText = Field("", max_length=2000)


class ChainBody(Strict):
    levels: list[str] = Field(min_length=1, max_length=4)


class RollbackBody(Strict):
    reason: PlainText = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required")
        return value


class BlockView(BaseModel):
    code: str
    reason: str
    reason_zh: str


class PreGraduateView(BaseModel):
    student_id: str
    student_number: str  # masked
    name: str
    id_number_masked: str
    grade: int
    major_code: str | None
    study_length: float
    status: str
    normal_end_year: int
    late: bool  # a late graduation: the province must approve the list
    ready: bool
    blocks: list[BlockView]
    on_list_id: str | None


class PreGraduatePage(BaseModel):
    school_code: str
    graduating_year: int
    total: int
    ready: int
    limit: int
    offset: int
    items: list[PreGraduateView]


class ListSummary(BaseModel):
    id: str
    school_code: str
    school_name: str
    graduating_year: int
    state: str
    levels: list[str]
    pending_level: str | None
    submitted_by: str
    submitted_at: datetime
    decided_at: datetime | None
    issued_at: datetime | None
    entries: int


class ListPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ListSummary]


class EntryView(BaseModel):
    student_id: str
    student_number: str | None  # masked
    name: str | None
    outcome: str
    state: str
    graduated_on: date | None
    certificate_id: str | None


class ReviewView(BaseModel):
    level: str
    decision: str
    opinion: str
    actor_name: str
    at: datetime


class ListDetail(ListSummary):
    students: list[EntryView]
    reviews: list[ReviewView]


class ChainView(BaseModel):
    levels: list[str]
    configured: bool
    updated_by: str | None
    updated_at: datetime | None


class RollbackView(BaseModel):
    student_id: str
    certificate_id: str
    certificate_number: str
    certificate_status: str
    reason: str


def _pre_graduate_view(pre: PreGraduate) -> PreGraduateView:
    s = pre.student
    return PreGraduateView(
        student_id=s.student_id,
        student_number=mask_student_number(s.student_number),
        name=s.name,
        id_number_masked=s.id_number_masked,
        grade=s.grade,
        major_code=s.major_code,
        study_length=s.study_length,
        status=s.status,
        normal_end_year=pre.readiness.normal_end_year,
        late=pre.readiness.late,
        ready=pre.readiness.ready,
        blocks=[
            BlockView(code=b.value, reason=b.reason, reason_zh=b.reason_zh) for b in pre.readiness.blocks
        ],
        on_list_id=pre.live_list_id,
    )


def _summary(row: GraduationList, entries: int) -> ListSummary:
    return ListSummary(
        id=row.id,
        school_code=row.school_code,
        school_name=row.school_name,
        graduating_year=row.graduating_year,
        state=row.state,
        levels=list(row.levels),
        pending_level=review_of(row).pending_level,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        issued_at=row.issued_at,
        entries=entries,
    )


# --- the pre-graduate list ---------------------------------------------------------------------


@router.get(
    "/pre-graduates", summary="The pre-graduate list of a school and year (预毕业生查询)", responses=PROBLEMS
)
async def list_pre_graduates(
    principal: CurrentPrincipal,
    ctx: Context,
    school_code: Annotated[str, Query(pattern=r"^[0-9]{10}$")],
    year: Annotated[int, Query(ge=2000, le=2100)],
    limit: Limit = 100,
    offset: Offset = 0,
) -> PreGraduatePage:
    require_role(principal, *GRADUATION_READERS)
    async with ctx.sessionmaker() as session:
        found = await pre_graduates(
            session,
            jurisdiction_filter(principal, STUDENT_COLUMNS),
            school_code=school_code,
            graduating_year=year,
        )
    # Paged after the domain decided who is listed: a school's candidates are a few thousand rows
    # at most, and the rule is not repeated in SQL.
    return PreGraduatePage(
        school_code=school_code,
        graduating_year=year,
        total=len(found),
        ready=sum(1 for p in found if p.readiness.ready),
        limit=limit,
        offset=offset,
        items=[_pre_graduate_view(p) for p in found[offset : offset + limit]],
    )


# --- graduation lists ----------------------------------------------------------------------------


async def _detail(ctx: Context, principal: CurrentPrincipal, list_id: str) -> ListDetail:
    async with ctx.sessionmaker() as session:
        row = await visible_list(session, principal, list_id)
        entries = (
            await session.execute(
                select(GraduationEntry, StudentView.student_number, StudentView.name)
                .outerjoin(StudentView, StudentView.student_id == GraduationEntry.student_id)
                .where(GraduationEntry.list_id == row.id)
                .order_by(StudentView.student_number, GraduationEntry.student_id)
            )
        ).all()
        reviews = await session.scalars(
            select(GraduationReview).where(GraduationReview.list_id == row.id).order_by(GraduationReview.id)
        )
        return ListDetail(
            **_summary(row, len(entries)).model_dump(),
            students=[
                EntryView(
                    student_id=e.student_id,
                    student_number=mask_student_number(number) if number else None,
                    name=name,
                    outcome=e.outcome,
                    state=e.state,
                    graduated_on=e.graduated_on,
                    certificate_id=e.certificate_id,
                )
                for e, number, name in entries
            ],
            reviews=[
                ReviewView(
                    level=r.level, decision=r.decision, opinion=r.opinion, actor_name=r.actor_name, at=r.at
                )
                for r in reviews
            ],
        )


@router.post(
    "/graduation-lists",
    summary="Submit the school's graduation list (毕业 / 结业 / 肄业 per student)",
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
)
async def submit_graduation_list(
    body: GraduationListBody, principal: CurrentPrincipal, ctx: Context
) -> ListDetail:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    if not may_list_year(body.graduating_year, ctx.today()):
        raise field_problem(
            "graduating_year",
            "a list may be submitted for the current graduating year or earlier",
            "毕业年份不正确",
        )
    seen: set[str] = set()
    for index, entry in enumerate(body.entries):
        if entry.student_id in seen:
            raise field_problem(
                f"entries[{index}].student_id", "the student is listed twice", "同一学生重复列入"
            )
        seen.add(entry.student_id)
    async with ctx.uow() as uow:
        row = await submit_list(
            uow,
            principal,
            body.graduating_year,
            [ListedStudent(e.student_id, e.outcome) for e in body.entries],
        )
        await uow.commit()
    return await _detail(ctx, principal, row.id)


@router.get("/graduation-lists", summary="Graduation lists in your jurisdiction", responses=PROBLEMS)
async def list_graduation_lists(
    principal: CurrentPrincipal,
    ctx: Context,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
    region: Region = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    state: ListStateName | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ListPage:
    require_role(principal, *GRADUATION_READERS)
    conditions = [jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS)]
    if region is not None:
        conditions.append(within(GRADUATION_LIST_COLUMNS, region))
    if school_code is not None:
        conditions.append(GraduationList.school_code == school_code)
    if year is not None:
        conditions.append(GraduationList.graduating_year == year)
    if state is not None:
        conditions.append(GraduationList.state == state)
    return await _page(ctx, conditions, limit, offset)


async def _page(ctx: Context, conditions: list[Any], limit: int, offset: int) -> ListPage:
    counts = (
        select(GraduationEntry.list_id, func.count().label("n")).group_by(GraduationEntry.list_id).subquery()
    )
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(GraduationList).where(*conditions)) or 0
        rows = await session.execute(
            select(GraduationList, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.list_id == GraduationList.id)
            .where(*conditions)
            .order_by(GraduationList.submitted_at.desc(), GraduationList.id)
            .limit(limit)
            .offset(offset)
        )
        items = [_summary(row, n) for row, n in rows]
    return ListPage(total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/graduation-lists/{list_id}",
    summary="One graduation list with its students and reviews",
    responses=PROBLEMS,
)
async def get_graduation_list(list_id: str, principal: CurrentPrincipal, ctx: Context) -> ListDetail:
    require_role(principal, *GRADUATION_READERS)
    return await _detail(ctx, principal, list_id)


@router.get("/graduation-reviews", summary="Graduation lists waiting for your review", responses=PROBLEMS)
async def graduation_review_queue(
    principal: CurrentPrincipal, ctx: Context, region: Region = None, limit: Limit = 50, offset: Offset = 0
) -> ListPage:
    level: Level | None = LEVEL_OF_ROLE.get(principal.role)
    if level is None:
        return ListPage(total=0, limit=limit, offset=offset, items=[])
    org_column = getattr(GRADUATION_LIST_COLUMNS, level)
    conditions = [
        jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS),
        GraduationList.state == ListState.UNDER_REVIEW.value,
        GraduationList.levels.op("->>")(GraduationList.level_index) == level,
        org_column == principal.org,
    ]
    if region is not None:
        conditions.append(within(GRADUATION_LIST_COLUMNS, region))
    return await _page(ctx, conditions, limit, offset)


@router.post(
    "/graduation-lists/{list_id}/decision",
    summary="Approve or return at the pending level",
    responses=PROBLEMS,
)
async def decide_graduation_list(
    list_id: str, body: DecisionBody, principal: CurrentPrincipal, ctx: Context
) -> ListDetail:
    async with ctx.uow() as uow:
        await decide(uow, principal, list_id, body.decision, body.opinion)
        await uow.commit()
    return await _detail(ctx, principal, list_id)


# --- the chain ---------------------------------------------------------------------------------


@router.get("/graduation-chain", summary="The review chain new graduation lists get", responses=PROBLEMS)
async def get_graduation_chain(principal: CurrentPrincipal, ctx: Context) -> ChainView:
    async with ctx.sessionmaker() as session:
        row = await configured_chain(session)
    return ChainView(
        levels=list(chain_of(row)),
        configured=row is not None,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


@router.put(
    "/graduation-chain", summary="Configure the graduation review chain (province)", responses=PROBLEMS
)
async def put_graduation_chain(body: ChainBody, principal: CurrentPrincipal, ctx: Context) -> ChainView:
    require_role(principal, Role.PROVINCE)
    try:
        levels = list(valid_chain(body.levels))
    except ChainNotAllowed as exc:
        raise field_problem("levels", exc.reason, exc.reason_zh) from exc
    now = datetime.now(UTC)
    values = {
        "business": CHAIN_BUSINESS,
        "levels": levels,
        "updated_by": principal.username,
        "updated_at": now,
    }
    async with ctx.uow() as uow:
        await uow.session.execute(
            insert(GraduationChainConfig)
            .values(**values)
            .on_conflict_do_update(index_elements=["business"], set_=values)
        )
        await uow.commit()
    return ChainView(levels=levels, configured=True, updated_by=principal.username, updated_at=now)


# --- rollback ----------------------------------------------------------------------------------


@router.post(
    "/graduations/{student_id}/rollback",
    summary="Roll back an issued graduation: the certificate is voided, the record returns to in school",
    responses=PROBLEMS,
)
async def roll_back_graduation(
    student_id: str, body: RollbackBody, principal: CurrentPrincipal, ctx: Context
) -> RollbackView:
    require_role(principal, *BUREAU_ROLES)
    async with ctx.uow() as uow:
        certificate = await roll_back(uow, principal, student_id, body.reason, ctx.today())
        await uow.commit()
    return RollbackView(
        student_id=student_id,
        certificate_id=certificate.id,
        certificate_number=certificate.number,
        certificate_status=certificate.status,
        reason=certificate.void_reason or "",
    )
