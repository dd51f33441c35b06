"""A round's lists (seed 000): 已完成名单 (completed, with result and time filters) and 未完成名单
(eligible students without a valid check-in, to chase), paginated, masked, inside the caller's
jurisdiction; and their xlsx export under dual post (双岗)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select, update
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
    incomplete_query,
    ordered,
)
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.dual_post import DOWNLOAD_WINDOW, Account, ExportState, export_state, may_approve_export
from shared.idnumber import mask_student_number
from shared.problems import Problem, conflict, field_problem, forbidden, not_found
from shared.service import Context, ServiceContext
from shared.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(prefix="/api/v1", tags=["lists"])
EXPORTERS = (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE)
MAX_EXPORT_ROWS = 100_000  # one workbook; a province-wide list is exported per city or county
ListKind = Literal["completed_list", "incomplete_list"]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "The caller's role may not do this", **PROBLEM},
    404: {"description": "No such round or export (of the caller's school or bureau)", **PROBLEM},
    409: {"description": "The export is not approved, already downloaded or expired", **PROBLEM},
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


# --- exports under dual post --------------------------------------------------------------------


class _CompletedExportFilters(CompletedFilters):
    """In a body a misspelt filter must fail, not silently widen the export to everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _IncompleteExportFilters(StudentFilters):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_FILTERS: dict[str, type[StudentFilters]] = {
    "completed_list": _CompletedExportFilters,
    "incomplete_list": _IncompleteExportFilters,
}


class ExportCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ListKind
    round_id: UUID
    filters: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=2, max_length=200, description="why the list is exported")


class ExportView(BaseModel):
    id: UUID
    kind: ListKind
    round_id: UUID
    state: ExportState
    filters: dict[str, Any]
    reason: str
    count_at_request: int
    requested_by: str
    requester_name: str
    org: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    downloaded_at: datetime | None
    download_until: datetime | None


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
    return incomplete_query(principal, round_row, filters)


def _export_view(row: ExportRequest) -> ExportView:
    return ExportView(
        id=row.id,
        kind=row.kind,
        round_id=row.round_id,
        state=export_state(
            approved_at=row.approved_at, downloaded_at=row.downloaded_at, now=datetime.now(UTC)
        ),
        filters=row.filters,
        reason=row.reason,
        count_at_request=row.count_at_request,
        requested_by=row.requested_by,
        requester_name=row.requester_name,
        org=row.org,
        requested_at=row.requested_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        downloaded_at=row.downloaded_at,
        download_until=row.approved_at + DOWNLOAD_WINDOW if row.approved_at else None,
    )


def _account(principal: Principal) -> Account:
    return Account(principal.account_id, principal.org, principal.province, principal.role in SCHOOL_ROLES)


@router.post(
    "/exports",
    status_code=201,
    summary="Ask for an xlsx of a round's completed or incomplete list (双岗: a second user approves)",
    responses=_RESPONSES,
)
async def request_export(body: ExportCommand, principal: CurrentPrincipal, ctx: Context) -> ExportView:
    require_role(principal, *EXPORTERS)
    filters = _filters_of(body.kind, body.filters)
    async with ctx.uow() as uow:
        round_row = await round_of(uow.session, body.round_id)
        count = await uow.session.scalar(counted(_list_query(body.kind, principal, round_row, filters))) or 0
        if count > MAX_EXPORT_ROWS:
            raise field_problem(
                "filters",
                f"the list has {count} students, more than {MAX_EXPORT_ROWS} for one workbook: "
                "narrow the filter",
                f"符合条件的学生 {count} 人，超过单个文件上限 {MAX_EXPORT_ROWS} 人，请缩小查询范围",
            )
        row = ExportRequest(
            kind=body.kind,
            round_id=round_row.id,
            filters=filters.model_dump(mode="json", exclude_none=True),
            reason=body.reason,
            count_at_request=count,
            requested_by=principal.account_id,
            requester_name=principal.username,
            requester_role=principal.role.value,
            org=principal.org,
            province=principal.province,
            requested_at=datetime.now(UTC),
        )
        uow.session.add(row)
        await uow.session.flush()
        await exports.audit(
            uow.session,
            principal,
            action="export.requested",
            subject=f"export:{row.id}",
            detail={
                "kind": body.kind,
                "round_id": str(round_row.id),
                "filters": row.filters,
                "reason": body.reason,
                "count": count,
            },
        )
        await uow.commit()
    return _export_view(row)


async def _export_of_my_org(session: AsyncSession, export_id: UUID, principal: Principal) -> ExportRequest:
    row = await session.get(ExportRequest, export_id)
    if row is None or (row.org, row.province) != (principal.org, principal.province):
        raise not_found(f"export {export_id}")
    return row


@router.get("/exports", summary="Export requests of the caller's school or bureau", responses=_RESPONSES)
async def list_exports(principal: CurrentPrincipal, ctx: Context) -> list[ExportView]:
    require_role(principal, *EXPORTERS)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(ExportRequest)
            .where(ExportRequest.org == principal.org, ExportRequest.province == principal.province)
            .order_by(ExportRequest.requested_at.desc())
            .limit(200)
        )
        return [_export_view(row) for row in rows]


@router.get("/exports/{export_id}", summary="One export request", responses=_RESPONSES)
async def get_export(export_id: UUID, principal: CurrentPrincipal, ctx: Context) -> ExportView:
    require_role(principal, *EXPORTERS)
    async with ctx.sessionmaker() as session:
        return _export_view(await _export_of_my_org(session, export_id, principal))


@router.post(
    "/exports/{export_id}/approval",
    summary="A second user of the same school or bureau approves the export",
    responses=_RESPONSES,
)
async def approve_export(export_id: UUID, principal: CurrentPrincipal, ctx: Context) -> ExportView:
    require_role(principal, *EXPORTERS)
    async with ctx.uow() as uow:
        requested = await _export_of_my_org(uow.session, export_id, principal)
        refusal = may_approve_export(
            Account(
                requested.requested_by,
                requested.org,
                requested.province,
                Role(requested.requester_role) in SCHOOL_ROLES,
            ),
            _account(principal),
        )
        if refusal is not None:
            raise Problem(
                403,
                "Forbidden",
                title_zh="须由同单位的另一名用户审批（双岗）",
                slug="dual-post",
                detail=refusal,
            )
        # Only a pending request moves; a concurrent second approval finds nothing to update.
        approved = await uow.session.scalar(
            update(ExportRequest)
            .where(ExportRequest.id == export_id, ExportRequest.approved_at.is_(None))
            .values(approved_by=principal.account_id, approved_at=datetime.now(UTC))
            .returning(ExportRequest)
            .execution_options(populate_existing=True)
        )
        if approved is None:
            raise conflict("the export is already approved", slug="export-state")
        await exports.audit(
            uow.session,
            principal,
            action="export.approved",
            subject=f"export:{export_id}",
            detail={"requested_by": requested.requested_by, "kind": requested.kind},
        )
        await uow.commit()
    return _export_view(approved)


@router.get(
    "/exports/{export_id}/download",
    summary="The requester downloads the approved workbook, once, within 24 hours",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **_RESPONSES},
)
async def download_export(export_id: UUID, principal: CurrentPrincipal, ctx: Context) -> Response:
    require_role(principal, *EXPORTERS)
    now = datetime.now(UTC)
    async with ctx.uow() as uow:
        requested = await _export_of_my_org(uow.session, export_id, principal)
        if requested.requested_by != principal.account_id:
            raise forbidden("only the user who requested the export may download it")
        state = export_state(
            approved_at=requested.approved_at, downloaded_at=requested.downloaded_at, now=now
        )
        if state is not ExportState.APPROVED:
            raise conflict(
                f"the export is {state.value}: it can be downloaded once, after approval, within 24 hours",
                slug="export-state",
            )
        # Claim the single download first: two concurrent downloads cannot both get the file.
        claimed = await uow.session.scalar(
            update(ExportRequest)
            .where(ExportRequest.id == export_id, ExportRequest.downloaded_at.is_(None))
            .values(downloaded_at=now)
            .returning(ExportRequest.id)
        )
        if claimed is None:
            raise conflict("the export was already downloaded", slug="export-state")
        round_row = await round_of(uow.session, requested.round_id)
        filters = _filters_of(requested.kind, requested.filters)
        rows = (
            await uow.session.execute(ordered(_list_query(requested.kind, principal, round_row, filters)))
        ).all()
        title = exports.heading(
            round_row,
            exports.LIST_TITLES[requested.kind],
            filters.describe(),
            len(rows),
            f"{requested.requester_name}（批准人 {requested.approved_by}）",
            now,
        )
        build = (
            exports.completed_workbook if requested.kind == "completed_list" else exports.incomplete_workbook
        )
        content = await asyncio.to_thread(build, title, rows)
        await exports.audit(
            uow.session,
            principal,
            action="export.downloaded",
            subject=f"export:{export_id}",
            detail={"kind": requested.kind, "round_id": str(round_row.id), "count": len(rows)},
        )
        await uow.commit()
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{requested.kind}-{export_id}.xlsx"'},
    )
