"""学籍注册统计 (seed 000): a round's eligible, checked-in, per-result, completed and incomplete
counts and the completion rate per school / class / major / grade, or per city / county for
bureaus — one GROUP BY in PostgreSQL; the progress of the current rounds (what a counselor sees
of their students); and the FM4 indicator per school for bureaus."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin import exports
from services.checkin.api.common import PROBLEM, READERS
from services.checkin.api.lists import round_of
from services.checkin.domain.eligibility import FULL_TIME, IN_SCHOOL
from services.checkin.domain.fm4 import VALID_RESULTS, WINDOW_MONTHS, window_start
from services.checkin.models import CheckIn, Miss, Round, StudentView
from services.checkin.round_lists import (
    RESULTS,
    GroupBy,
    StudentFilters,
    counted,
    day_after,
    day_start,
    group_key_names,
    statistics_query,
    visible,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.china_time import today_in_china
from shared.idnumber import mask_student_number
from shared.problems import field_problem
from shared.service import Context
from shared.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(prefix="/api/v1", tags=["statistics"])
STAFF = tuple(role for role in READERS if role is not Role.STUDENT)
BUREAUS_AND_SCHOOLS = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "The caller's role may not see statistics", **PROBLEM},
    404: {"description": "No such round", **PROBLEM},
    422: {"description": "A parameter is invalid; the body names it", **PROBLEM},
}


class Counts(BaseModel):
    eligible: int = Field(description="students who must check in (应核验)")
    checked_in: int = Field(description="with a decided check-in, whatever its result")
    completed: int = Field(description="with a valid check-in: 正常 or 正在实习")
    normal: int
    internship: int
    off_campus: int
    suspected_cheating: int
    incomplete: int = Field(description="eligible without a valid check-in (未完成)")
    completion_rate: float = Field(description="completed / eligible, 0 when nobody is eligible")


class Group(Counts):
    key: dict[str, str | int | None]


class RoundStatistics(BaseModel):
    round_id: UUID
    round_name: str
    by: GroupBy | None
    total: Counts
    groups: list[Group]


def _counts(row: Any) -> dict[str, Any]:
    values = row._mapping
    eligible = int(values["eligible"])
    completed = int(values["completed"])
    return {
        "eligible": eligible,
        "checked_in": int(values["checked_in"]),
        "completed": completed,
        **{name: int(values[name]) for name in RESULTS},
        "incomplete": eligible - completed,
        "completion_rate": round(completed / eligible, 4) if eligible else 0.0,
    }


async def round_statistics(
    session: AsyncSession, principal: Principal, round_row: Round, by: GroupBy | None, filters: StudentFilters
) -> RoundStatistics:
    total_row = (await session.execute(statistics_query(principal, round_row, None, filters))).one()
    groups: list[Group] = []
    if by is not None:
        keys = group_key_names(by)
        for row in await session.execute(statistics_query(principal, round_row, by, filters)):
            groups.append(Group(key={key: row._mapping[key] for key in keys}, **_counts(row)))
    return RoundStatistics(
        round_id=round_row.id,
        round_name=round_row.name,
        by=by,
        total=Counts(**_counts(total_row)),
        groups=groups,
    )


@router.get("/rounds/{round_id}/statistics", summary="学籍注册统计 of a round, grouped", responses=_RESPONSES)
async def statistics(
    round_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    by: GroupBy | None = None,
) -> RoundStatistics:
    require_role(principal, *STAFF)
    async with ctx.sessionmaker() as session:
        round_row = await round_of(session, round_id)
        return await round_statistics(session, principal, round_row, by, filters)


@router.get(
    "/rounds/{round_id}/statistics.xlsx",
    summary="The same statistics as an xlsx workbook (counts only; audit-logged)",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **_RESPONSES},
)
async def statistics_workbook(
    round_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    by: GroupBy | None = None,
) -> Response:
    # Counts carry no personal data: no second user is needed, but the export is logged.
    require_role(principal, *BUREAUS_AND_SCHOOLS)
    now = datetime.now(UTC)
    async with ctx.uow() as uow:
        round_row = await round_of(uow.session, round_id)
        result = await round_statistics(uow.session, principal, round_row, by, filters)
        rows = [{**group.key, **group.model_dump(exclude={"key"})} for group in result.groups]
        total_key = dict.fromkeys(group_key_names(by), None) if by else {}
        if by:
            total_key[group_key_names(by)[0]] = "合计"
        rows.append({**total_key, **result.total.model_dump()})
        title = exports.heading(
            round_row,
            f"学籍注册统计（按{by or '全部'}）",
            filters.describe(),
            len(result.groups),
            principal.username,
            now,
        )
        content = await asyncio.to_thread(exports.statistics_workbook, title, by, rows)
        await exports.audit(
            uow.session,
            principal,
            action="statistics.exported",
            subject=f"round:{round_id}",
            detail={"by": by, "filters": filters.model_dump(mode="json", exclude_none=True)},
        )
        await uow.commit()
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="statistics-{round_id}.xlsx"'},
    )


class RoundProgress(Counts):
    round_id: UUID
    round_name: str
    kind: str
    ends_at: datetime


@router.get(
    "/progress/current-rounds",
    summary="How far the caller's students are in the open rounds (a counselor: their students)",
    responses=_RESPONSES,
)
async def current_rounds_progress(principal: CurrentPrincipal, ctx: Context) -> list[RoundProgress]:
    require_role(principal, *STAFF)
    async with ctx.sessionmaker() as session:
        rounds = list(
            await session.scalars(select(Round).where(Round.state == "open").order_by(Round.ends_at))
        )
        progress = []
        for round_row in rounds:
            row = (
                await session.execute(statistics_query(principal, round_row, None, StudentFilters()))
            ).one()
            counts = _counts(row)
            if counts["eligible"] or counts["checked_in"]:
                progress.append(
                    RoundProgress(
                        round_id=round_row.id,
                        round_name=round_row.name,
                        kind=round_row.kind,
                        ends_at=round_row.ends_at,
                        **counts,
                    )
                )
    return progress


# --- FM4 ------------------------------------------------------------------------------------------


class Fm4School(BaseModel):
    school_code: str
    school_name: str
    full_time_in_school: int
    hollow: int = Field(description="called to a round in the window, no valid check-in in it")
    share: float


class Fm4Report(BaseModel):
    as_of: date
    window_starts_on: date
    window_months: int = WINDOW_MONTHS
    schools: list[Fm4School]


class Fm4Student(BaseModel):
    student_id: str
    student_number_masked: str
    name: str
    id_number_masked: str
    school_code: str
    grade: int
    class_id: str | None
    last_valid_check_in_at: datetime | None


class Fm4StudentPage(BaseModel):
    as_of: date
    total: int
    items: list[Fm4Student]


def _as_of(as_of: date | None) -> date:
    today = today_in_china()
    if as_of is None:
        return today
    if as_of > today:
        raise field_problem("as_of", "the indicator is not computed for a future day", "不能晚于今天")
    return as_of


def _hollow(since: datetime, until: datetime) -> Any:
    """domain/fm4.is_hollow_record as SQL: a miss not excused whose round closed in the window,
    and no valid check-in received in it."""
    called = exists().where(
        Miss.student_id == StudentView.student_id,
        Miss.excused.is_(False),
        Miss.round_ends_at >= since,
        Miss.round_ends_at < until,
    )
    present = exists().where(
        CheckIn.student_id == StudentView.student_id,
        CheckIn.received_at >= since,
        CheckIn.received_at < until,
        CheckIn.result.in_(VALID_RESULTS),
    )
    return and_(called, ~present)


def _full_time_in_school() -> Any:
    return and_(StudentView.status == IN_SCHOOL, StudentView.study_form == FULL_TIME)


@router.get("/fm4", summary="FM4 学籍空挂 per school: full-time students with no check-in for 3 months")
async def fm4_per_school(
    principal: CurrentPrincipal,
    ctx: Context,
    as_of: Annotated[date | None, Query(description="default: today (Asia/Shanghai)")] = None,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
) -> Fm4Report:
    require_role(principal, *BUREAUS_AND_SCHOOLS)
    day = _as_of(as_of)
    since_day = window_start(day)
    hollow = _hollow(day_start(since_day), day_after(day))
    query = visible(
        select(
            StudentView.school_code,
            func.max(StudentView.school_name).label("school_name"),
            func.count().label("full_time_in_school"),
            func.count().filter(hollow).label("hollow"),
        ).where(_full_time_in_school()),
        principal,
    )
    if school_code is not None:
        query = query.where(StudentView.school_code == school_code)
    query = query.group_by(StudentView.school_code).order_by(StudentView.school_code)
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(query)).all()
    return Fm4Report(
        as_of=day,
        window_starts_on=since_day,
        schools=[
            Fm4School(
                school_code=row.school_code,
                school_name=row.school_name,
                full_time_in_school=row.full_time_in_school,
                hollow=row.hollow,
                share=round(row.hollow / row.full_time_in_school, 4) if row.full_time_in_school else 0.0,
            )
            for row in rows
        ],
    )


@router.get("/fm4/students", summary="The students FM4 counts, for the school to act on (masked)")
async def fm4_students(
    principal: CurrentPrincipal,
    ctx: Context,
    as_of: Annotated[date | None, Query(description="default: today (Asia/Shanghai)")] = None,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Fm4StudentPage:
    require_role(principal, *BUREAUS_AND_SCHOOLS)
    day = _as_of(as_of)
    since, until = day_start(window_start(day)), day_after(day)
    last_valid = (
        select(func.max(CheckIn.received_at))
        .where(CheckIn.student_id == StudentView.student_id, CheckIn.result.in_(VALID_RESULTS))
        .scalar_subquery()
    )
    query = visible(
        select(StudentView, last_valid.label("last_valid")).where(
            _full_time_in_school(), _hollow(since, until)
        ),
        principal,
    )
    if school_code is not None:
        query = query.where(StudentView.school_code == school_code)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(counted(query)) or 0
        rows = (
            await session.execute(
                query.order_by(
                    StudentView.school_code, StudentView.grade, StudentView.class_id, StudentView.name
                )
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return Fm4StudentPage(
        as_of=day,
        total=total,
        items=[
            Fm4Student(
                student_id=student.student_id,
                student_number_masked=mask_student_number(student.student_number),
                name=student.name,
                id_number_masked=student.id_number_masked,
                school_code=student.school_code,
                grade=student.grade,
                class_id=student.class_id,
                last_valid_check_in_at=last,
            )
            for student, last in rows
        ],
    )
