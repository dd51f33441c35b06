"""A round's lists (seed 000): 已完成名单 (completed, with result and time filters), 未完成名单
(eligible students without a valid check-in, to chase) and 应核验名单 (every eligible student, the
statistics' 应核验 number), paginated, masked, inside the caller's
jurisdiction; and their xlsx export under dual post (双岗)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin import exports
from services.checkin.api.common import PROBLEM, READERS
from services.checkin.models import Round
from services.checkin.models.exports import ExportRequest
from services.checkin.round_lists import (
    RESULT_ZH,
    CompletedFilters,
    ResultName,
    StudentFilters,
    completed_query,
    counted,
    eligible_query,
    incomplete_query,
    ordered,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.dual_post_exports import (
    DualPostExports,
    ExportFile,
    ExportStep,
    ExportView,
    ListNoun,
    NewExport,
)
from shared.idnumber import mask_student_number
from shared.problems import field_problem, not_found
from shared.service import Context, ServiceContext

router = APIRouter(prefix="/api/v1", tags=["lists"])
EXPORTERS = (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE)
MAX_EXPORT_ROWS = 100_000  # one workbook; a province-wide list is exported per city or county
ListKind = Literal["completed_list", "incomplete_list", "eligible_list"]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "The caller's role may not do this", **PROBLEM},
    404: {"description": "No such round", **PROBLEM},
    422: {"description": "A field is invalid; the body names it", **PROBLEM},
}


class ListRow(BaseModel):
    student_id: str
    student_number_masked: str
    name: str
    id_number_masked: str
    school_code: str
    school_name: str
    grade: int
    major_code: str | None
    class_id: str | None
    study_length: float
    study_form: str
    result: ResultName | None = Field(description="the current attempt's result; None: not checked in")
    result_zh: str | None
    checked_in_at: datetime | None = None
    reasons: list[str] = Field(default_factory=list)


class ListPage(BaseModel):
    round_id: UUID
    total: int
    limit: int
    offset: int
    items: list[ListRow]


def _row(row: Any) -> ListRow:
    values = row._mapping
    return ListRow(
        student_id=row.student_id,
        student_number_masked=mask_student_number(row.student_number),
        name=row.name,
        id_number_masked=row.id_number_masked,
        school_code=row.school_code,
        school_name=row.school_name,
        grade=row.grade,
        major_code=row.major_code,
        class_id=row.class_id,
        study_length=row.study_length,
        study_form=row.study_form,
        result=row.result,
        result_zh=RESULT_ZH.get(row.result) if row.result else None,
        checked_in_at=values.get("received_at"),
        reasons=values.get("reasons") or [],
    )


async def round_of(session: AsyncSession, round_id: UUID) -> Round:
    round_row = await session.get(Round, round_id)
    if round_row is None:
        raise not_found(f"round {round_id}")
    return round_row


async def _page(
    kind: ListKind,
    round_id: UUID,
    principal: Principal,
    ctx: ServiceContext,
    filters: StudentFilters,
    limit: int,
    offset: int,
) -> ListPage:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        round_row = await round_of(session, round_id)
        query = _list_query(kind, principal, round_row, filters)
        total = await session.scalar(counted(query)) or 0
        rows = (await session.execute(ordered(query).limit(limit).offset(offset))).all()
    return ListPage(round_id=round_id, total=total, limit=limit, offset=offset, items=[_row(r) for r in rows])


@router.get(
    "/rounds/{round_id}/completed",
    summary="已完成名单: students with a decided check-in, by result and check-in time",
    responses=_RESPONSES,
)
async def completed_list(
    round_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[CompletedFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ListPage:
    return await _page("completed_list", round_id, principal, ctx, filters, limit, offset)


@router.get(
    "/rounds/{round_id}/incomplete",
    summary="未完成名单: eligible students without a valid check-in, to chase",
    responses=_RESPONSES,
)
async def incomplete_list(
    round_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ListPage:
    return await _page("incomplete_list", round_id, principal, ctx, filters, limit, offset)


@router.get(
    "/rounds/{round_id}/eligible",
    summary="应核验名单: every student the round asks to check in, with their current result",
    responses=_RESPONSES,
)
async def eligible_list(
    round_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ListPage:
    return await _page("eligible_list", round_id, principal, ctx, filters, limit, offset)


# --- exports under dual post --------------------------------------------------------------------


class _CompletedExportFilters(CompletedFilters):
    """In a body a misspelt filter must fail, not silently widen the export to everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _IncompleteExportFilters(StudentFilters):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_FILTERS: dict[str, type[StudentFilters]] = {
    "completed_list": _CompletedExportFilters,
    "incomplete_list": _IncompleteExportFilters,
    "eligible_list": _IncompleteExportFilters,  # the same filters as the incomplete list
}


class ExportCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ListKind
    round_id: UUID
    filters: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=2, max_length=200, description="why the list is exported")


class ListExportView(ExportView):
    kind: ListKind
    round_id: UUID


def _filters_of(kind: str, raw: dict[str, Any]) -> StudentFilters:
    try:
        return _FILTERS[kind].model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(["filters", *(str(part) for part in error["loc"])])
        raise field_problem(field, str(error["msg"]), "筛选条件不正确") from exc


def _list_query(kind: str, principal: Principal, round_row: Round, filters: StudentFilters) -> Any:
    if kind == "completed_list":
        assert isinstance(filters, CompletedFilters)
        return completed_query(principal, round_row, filters)
    if kind == "eligible_list":
        return eligible_query(principal, round_row, filters)
    return incomplete_query(principal, round_row, filters)


async def _asked_export(body: ExportCommand) -> NewExport:
    filters = _filters_of(body.kind, body.filters)
    return NewExport(
        filters=filters.model_dump(mode="json", exclude_none=True),
        reason=body.reason,
        columns={"kind": body.kind, "round_id": body.round_id},
    )


async def _count_list(session: AsyncSession, principal: Principal, asked: NewExport) -> int:
    kind = asked.columns["kind"]
    round_row = await round_of(session, asked.columns["round_id"])
    filters = _filters_of(kind, asked.filters)
    return await session.scalar(counted(_list_query(kind, principal, round_row, filters))) or 0


async def _build_list(
    session: AsyncSession, principal: Principal, requested: ExportRequest, now: datetime
) -> ExportFile:
    round_row = await round_of(session, requested.round_id)
    filters = _filters_of(requested.kind, requested.filters)
    rows = (await session.execute(ordered(_list_query(requested.kind, principal, round_row, filters)))).all()
    title = exports.heading(
        round_row,
        exports.LIST_TITLES[requested.kind],
        filters.describe(),
        len(rows),
        f"{requested.requester_name}（批准人 {requested.approved_by}）",
        now,
    )
    # The eligible list's columns are the incomplete list's (student, latest result or 未核验).
    build = exports.completed_workbook if requested.kind == "completed_list" else exports.incomplete_workbook
    content = await asyncio.to_thread(build, title, rows)
    return ExportFile(content, f"{requested.kind}-{requested.id}.xlsx", len(rows))


async def _audit_export(session: AsyncSession, principal: Principal, step: ExportStep) -> None:
    requested: ExportRequest = step.request
    if step.action == "export.requested":
        detail: dict[str, Any] = {
            "kind": requested.kind,
            "round_id": str(requested.round_id),
            "filters": requested.filters,
            "reason": requested.reason,
            "count": step.rows,
        }
    elif step.action == "export.approved":
        detail = {"requested_by": requested.requested_by, "kind": requested.kind}
    else:
        detail = {"kind": requested.kind, "round_id": str(requested.round_id), "count": step.rows}
    await exports.audit(
        session, principal, action=step.action, subject=f"export:{requested.id}", detail=detail
    )


list_exports = DualPostExports(
    model=ExportRequest,
    prefix="/exports",  # under this module's /api/v1
    tag="lists",
    asked=_asked_export,
    count=_count_list,
    build=_build_list,
    audit=_audit_export,
    noun=ListNoun("students", "学生", "人"),
    max_rows=MAX_EXPORT_ROWS,
    roles=EXPORTERS,
    parse_id=UUID,
    view_type=ListExportView,
    view_extra=lambda row: {"kind": row.kind, "round_id": row.round_id},
)
router.include_router(list_exports.router())
