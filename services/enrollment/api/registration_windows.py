"""Supplementary registration windows (补注册) over HTTP: after an intake's deadline (seed 004
art. 6: 20 Nov / 20 Apr) only the province may let schools register new students of that intake
again, for the whole province or one city, county or school, between two dates, with a reason.
The province opens, lists and closes them; every grant and closure is in the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from uuid6 import uuid7

from services.enrollment import audit
from services.enrollment.api.reviews import RESPONSES
from services.enrollment.domain.filing import Intake
from services.enrollment.domain.registration_window import SEASON_ZH, grant_problems
from services.enrollment.models.registration_windows import WINDOW_ORG, SupplementaryRegistrationWindow
from services.enrollment.registration_windows import Scope, resolve_scope
from shared.auth import CurrentPrincipal, Role, require_role
from shared.jurisdiction import jurisdiction_filter
from shared.problems import FieldIssue, Problem, conflict, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["registration windows"])
_BASE = "/registration-windows/supplementary"


class OpenWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    intake_year: int = Field(ge=2000, le=2100, strict=True, description="the intake's entry year (年级)")
    season: Literal["autumn", "spring"]
    scope: str | None = Field(
        None,
        min_length=2,
        max_length=10,
        description="None or the province: the whole province; else a city, county or school code",
    )
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=500)


class CloseWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)


class WindowView(BaseModel):
    id: str
    intake_year: int
    season: str
    scope: str
    scope_level: str
    starts_on: date
    ends_on: date
    reason: str
    open_today: bool
    granted_by: str
    granted_by_id: str
    granted_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None


def _scope_of(row: SupplementaryRegistrationWindow) -> Scope:
    return Scope(row.province_code, row.city_code, row.county_code, row.school_code)


def _view(row: SupplementaryRegistrationWindow, on: date) -> WindowView:
    scope = _scope_of(row)
    return WindowView(
        id=row.id,
        intake_year=row.intake_year,
        season=row.season,
        scope=scope.code,
        scope_level=scope.level,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        reason=row.reason,
        open_today=row.closed_at is None and row.starts_on <= on <= row.ends_on,
        granted_by=row.granted_by_name,
        granted_by_id=row.granted_by,
        granted_at=row.granted_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by_name,
        close_reason=row.close_reason,
    )


def _place(scope: Scope) -> audit.Place:
    return audit.Place(scope.province, scope.city, scope.county, scope.school)


def _describe(row: SupplementaryRegistrationWindow) -> str:
    scope = _scope_of(row)
    where = "全省" if scope.level == "province" else scope.code
    return (
        f"{row.intake_year}年{SEASON_ZH.get(row.season, row.season)}补注册（{where}）"
        f"{row.starts_on}至{row.ends_on}"
    )


@router.post(
    _BASE,
    status_code=201,
    summary="Open a supplementary registration window (补注册) for an intake — province only",
    responses=RESPONSES,
)
async def open_window(
    body: OpenWindow, principal: CurrentPrincipal, ctx: Context, response: Response
) -> WindowView:
    require_role(principal, Role.PROVINCE)
    on = ctx.today()
    problems = grant_problems(Intake(body.intake_year, body.season), body.starts_on, body.ends_on, on)
    if problems:
        raise Problem(
            422,
            "Invalid field",
            slug="invalid-field",
            detail="; ".join(f"{field}: {en}" for field, en, _ in problems),
            errors=[FieldIssue(field, en, zh) for field, en, zh in problems],
        )
    async with ctx.uow() as uow:
        scope = await resolve_scope(uow.session, principal.province, body.scope)
        if scope is None:
            raise field_problem(
                "scope", "no such city, county or school in this province", "本省没有该市、县或学校"
            )
        row = SupplementaryRegistrationWindow(
            id=str(uuid7()),
            intake_year=body.intake_year,
            season=body.season,
            province_code=scope.province,
            city_code=scope.city,
            county_code=scope.county,
            school_code=scope.school,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            reason=body.reason,
            granted_by=principal.account_id,
            granted_by_name=principal.username,
            granted_at=datetime.now(UTC),
        )
        uow.session.add(row)
        await audit.record(
            uow.session,
            principal,
            action="registration_window.opened",
            subject_type="registration_window",
            subject_id=row.id,
            place=_place(scope),
            detail=f"开放{_describe(row)}；理由：{body.reason}",
            data={"reason": body.reason},
        )
        await uow.commit()
    response.headers["Location"] = f"/api/v1{_BASE}/{row.id}"
    return _view(row, on)


@router.get(
    _BASE,
    summary="Supplementary registration windows of the province — province only",
    responses=RESPONSES,
)
async def list_windows(
    principal: CurrentPrincipal,
    ctx: Context,
    intake_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    season: Annotated[Literal["autumn", "spring"] | None, Query()] = None,
    include_closed: bool = False,
) -> list[WindowView]:
    require_role(principal, Role.PROVINCE)
    conditions = [jurisdiction_filter(principal, WINDOW_ORG)]
    if intake_year is not None:
        conditions.append(SupplementaryRegistrationWindow.intake_year == intake_year)
    if season is not None:
        conditions.append(SupplementaryRegistrationWindow.season == season)
    if not include_closed:
        conditions.append(SupplementaryRegistrationWindow.closed_at.is_(None))
    on = ctx.today()
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(SupplementaryRegistrationWindow)
            .where(*conditions)
            .order_by(SupplementaryRegistrationWindow.granted_at.desc())
            .limit(500)
        )
        return [_view(r, on) for r in rows]


@router.post(
    f"{_BASE}/{{window_id}}/close",
    summary="Close a supplementary registration window before its end — province only",
    responses=RESPONSES,
)
async def close_window(
    window_id: Annotated[str, Path(max_length=40)],
    body: CloseWindow,
    principal: CurrentPrincipal,
    ctx: Context,
) -> WindowView:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        row = await uow.session.scalar(
            select(SupplementaryRegistrationWindow)
            .where(
                SupplementaryRegistrationWindow.id == window_id,
                jurisdiction_filter(principal, WINDOW_ORG),
            )
            .with_for_update()
        )
        if row is None:
            raise not_found(f"registration window {window_id}")
        if row.closed_at is not None:
            raise conflict("the window is already closed", slug="window-closed")
        row.closed_at = datetime.now(UTC)
        row.closed_by = principal.account_id
        row.closed_by_name = principal.username
        row.close_reason = body.reason
        await audit.record(
            uow.session,
            principal,
            action="registration_window.closed",
            subject_type="registration_window",
            subject_id=row.id,
            place=_place(_scope_of(row)),
            detail=f"关闭{_describe(row)}；理由：{body.reason}",
            data={"reason": body.reason},
        )
        await uow.commit()
    return _view(row, ctx.today())
