"""Finding cases (跨省转学查询): the cases in the caller's jurisdiction by province, kind, state,
time, student and school, newest first; and monthly counts per province pair and kind. The same
list as an xlsx workbook is exported under dual post (api/exports.py).

Ended cases (completed, rejected, cancelled, expired) are kept and found like open ones.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer.api.common import PROBLEMS, visible
from services.transfer.api.views import CaseListView, case_summary
from services.transfer.domain.transfer_process import TERMINAL_STATES, CaseState
from services.transfer.models import TransferCase
from services.transfer.tracking import (
    CHINA_ZONE_NAME,
    BadMonth,
    CaseFilter,
    Month,
    Outcome,
    day_bounds,
    month_span,
    monthly_counts,
)
from shared.auth import CurrentPrincipal, Principal
from shared.events.transfer import TransferKind
from shared.problems import Problem, field_problem
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])

ProvinceParam = Annotated[str | None, Query(pattern=r"^[0-9]{2}$")]


def case_filter(
    origin_province: ProvinceParam = None,
    dest_province: ProvinceParam = None,
    kind: Annotated[list[TransferKind] | None, Query(description="several allowed")] = None,
    state: Annotated[list[CaseState] | None, Query(description="several allowed")] = None,
    applied_from: Annotated[
        date | None, Query(alias="from", description="applied on or after (China)")
    ] = None,
    applied_to: Annotated[date | None, Query(alias="to", description="applied on or before (China)")] = None,
    student_number: Annotated[
        str | None, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")
    ] = None,
    student_name: Annotated[
        str | None, Query(min_length=1, max_length=100, description="the whole name or its start")
    ] = None,
    school: Annotated[str | None, Query(pattern=r"^[0-9]{10}$", description="either side's school")] = None,
) -> CaseFilter:
    if applied_from and applied_to and applied_from > applied_to:
        raise field_problem("from", "must not be after to", "起始日期不能晚于截止日期")
    return CaseFilter(
        origin_province=origin_province,
        dest_province=dest_province,
        kinds=tuple(dict.fromkeys(kind or ())),
        states=tuple(dict.fromkeys(state or ())),
        applied_from=applied_from,
        applied_to=applied_to,
        student_number=student_number,
        student_name=student_name.strip() if student_name else None,
        school=school,
    )


Filter = Annotated[CaseFilter, Depends(case_filter)]


def case_where(principal: Principal, wanted: CaseFilter) -> list[ColumnElement[bool]]:
    where = [visible(principal)]
    if wanted.origin_province:
        where.append(TransferCase.origin_province == wanted.origin_province)
    if wanted.dest_province:
        where.append(TransferCase.dest_province == wanted.dest_province)
    if wanted.kinds:
        where.append(TransferCase.kind.in_([k.value for k in wanted.kinds]))
    if wanted.states:
        where.append(TransferCase.state.in_([s.value for s in wanted.states]))
    start, end = day_bounds(wanted.applied_from, wanted.applied_to)
    if start:
        where.append(TransferCase.created_at >= start)
    if end:
        where.append(TransferCase.created_at < end)
    if wanted.student_number:
        where.append(TransferCase.student_number == wanted.student_number)
    if wanted.student_name:
        where.append(TransferCase.student_name.startswith(wanted.student_name, autoescape=True))
    if wanted.school:
        where.append(
            or_(TransferCase.origin_school == wanted.school, TransferCase.dest_school == wanted.school)
        )
    return where


def newest_first(where: list[ColumnElement[bool]]) -> Select[tuple[TransferCase]]:
    return select(TransferCase).where(*where).order_by(TransferCase.created_at.desc(), TransferCase.id)


async def count_where(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    return await session.scalar(select(func.count()).select_from(TransferCase).where(*where)) or 0


@router.get("/transfers", summary="Transfers in your jurisdiction (跨省转学查询)", responses=PROBLEMS)
async def list_transfers(
    principal: CurrentPrincipal,
    ctx: Context,
    wanted: Filter,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseListView:
    where = case_where(principal, wanted)
    async with ctx.sessionmaker() as session:
        total = await count_where(session, where)
        rows = await session.scalars(newest_first(where).limit(limit).offset(offset))
        return CaseListView(items=[case_summary(case) for case in rows], total=total)


@router.get(
    "/transfers/export.xlsx",
    summary="Gone: exports need a second user's approval (双岗), see /transfers/exports",
    response_class=Response,
    responses=PROBLEMS,
)
async def export_transfers(principal: CurrentPrincipal) -> Response:
    # Kept as a pointer rather than a 404 so an old client learns where the list went.
    raise Problem(
        403,
        "Forbidden",
        title_zh="导出须经同单位另一名用户审批（双岗）",
        slug="dual-post",
        detail=(
            "a list of cases is exported under dual post: POST /api/v1/transfers/exports with the "
            "filters of GET /api/v1/transfers and a reason, have a second user of your office "
            "approve it, then download it once"
        ),
    )


class MonthlyRow(BaseModel):
    month: str
    origin_province: str
    dest_province: str
    kind: TransferKind
    applied: int
    completed: int
    rejected: int
    cancelled: int
    expired: int


class MonthlyView(BaseModel):
    """Per month (China time) and (origin, destination, kind): cases applied that month, and
    cases that ended that month by how they ended. Keys with no case are left out."""

    from_month: str
    to_month: str
    rows: list[MonthlyRow]


def _month_of(column: Any) -> ColumnElement[str]:
    return func.to_char(func.timezone(CHINA_ZONE_NAME, column), "YYYY-MM")


@router.get(
    "/transfers/monthly", summary="Monthly counts per province pair and kind (统计)", responses=PROBLEMS
)
async def monthly_transfers(
    principal: CurrentPrincipal,
    ctx: Context,
    from_month: Annotated[str, Query(alias="from", pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")],
    to_month: Annotated[str, Query(alias="to", pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")],
) -> MonthlyView:
    try:
        start, end = month_span(Month.parse(from_month, "from"), Month.parse(to_month, "to"))
    except BadMonth as bad:
        raise field_problem(bad.field_name, bad.reason, bad.reason_zh) from bad
    keys = (TransferCase.origin_province, TransferCase.dest_province, TransferCase.kind)
    applied_month = _month_of(TransferCase.created_at)
    ended_month = _month_of(TransferCase.ended_at)
    applied = (
        select(applied_month, *keys, func.count())
        .where(visible(principal), TransferCase.created_at >= start, TransferCase.created_at < end)
        .group_by(applied_month, *keys)
    )
    ended = (
        select(ended_month, *keys, TransferCase.state, func.count())
        .where(
            visible(principal),
            TransferCase.state.in_([s.value for s in TERMINAL_STATES]),
            TransferCase.ended_at >= start,
            TransferCase.ended_at < end,
        )
        .group_by(ended_month, *keys, TransferCase.state)
    )
    async with ctx.sessionmaker() as session:
        applied_rows = list(await session.execute(applied))
        ended_rows = list(await session.execute(ended))
    rows = monthly_counts(applied_rows, ended_rows)
    return MonthlyView(
        from_month=from_month,
        to_month=to_month,
        rows=[
            MonthlyRow(
                month=r.month,
                origin_province=r.origin_province,
                dest_province=r.dest_province,
                kind=r.kind,
                **{outcome.value: r.counts[outcome] for outcome in Outcome},
            )
            for r in rows
        ],
    )
