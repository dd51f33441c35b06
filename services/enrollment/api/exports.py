"""Exporting the student list to xlsx under dual post (双岗): request → a second user of the same
school or bureau approves → the requester downloads once, within 24 hours. Every step is
audit-logged; the workbook is exactly the filtered list, its first row says the filter and the
count, and ID numbers in it are masked like on screen."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response
from openpyxl import Workbook
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from uuid6 import uuid7

from services.enrollment import audit
from services.enrollment.api.queries import StudentRow, count_filtered, filtered, row_of
from services.enrollment.models import Student
from services.enrollment.models.exports import ExportRequest
from services.enrollment.student_query import StudentFilter
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.dual_post import (
    DOWNLOAD_WINDOW,
    Account,
    export_state,
    may_approve_export,
)
from shared.problems import Problem, conflict, field_problem, forbidden, not_found
from shared.service import Context
from shared.telemetry import ATTR_EXPORT_ID

router = APIRouter(prefix="/api/v1", tags=["exports"])
tracer = trace.get_tracer("xueji.enrollment")
MAX_ROWS = 100_000  # one workbook; a province-wide list is exported per school or county
EXPORT_ROLES = (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE)

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "Not a user who may request, approve or download this", **_PROBLEM},
    404: {"description": "No such export of the caller's school or bureau", **_PROBLEM},
    409: {"description": "Not approved yet, already downloaded, or expired", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}
_COLUMNS: list[tuple[str, str]] = [
    ("student_number_masked", "学籍号"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("id_type", "身份证件类型"),
    ("id_number_masked", "身份证件号"),
    ("school_name", "学校名称"),
    ("class_name", "班级"),
    ("grade", "年级"),
    ("major_code", "专业代码"),
    ("study_form", "学习形式"),
    ("status", "学籍状态"),
]


class ExportFilters(StudentFilter):
    """In a body a misspelt filter must fail, not silently widen the export to everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ExportCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filters: ExportFilters = Field(default_factory=lambda: ExportFilters())
    reason: str = Field(min_length=2, max_length=200, description="why the list is exported")


class ExportView(BaseModel):
    id: str
    state: Literal["pending", "approved", "downloaded", "expired"]
    requested_by: str
    requester_name: str
    org: str
    filters: dict[str, Any]
    filter_text: str
    reason: str
    count_at_request: int
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    downloaded_at: datetime | None
    download_until: datetime | None


def _account(principal: Principal) -> Account:
    return Account(principal.account_id, principal.org, principal.province, principal.role in SCHOOL_ROLES)


def _view(row: ExportRequest) -> ExportView:
    filters = StudentFilter.model_validate(row.filters)
    return ExportView(
        id=row.id,
        state=export_state(
            approved_at=row.approved_at, downloaded_at=row.downloaded_at, now=datetime.now(UTC)
        ).value,
        requested_by=row.requested_by,
        requester_name=row.requester_name,
        org=row.org,
        filters=row.filters,
        filter_text=filters.describe(),
        reason=row.reason,
        count_at_request=row.count_at_request,
        requested_at=row.requested_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        downloaded_at=row.downloaded_at,
        download_until=row.approved_at + DOWNLOAD_WINDOW if row.approved_at else None,
    )


@router.post(
    "/exports",
    status_code=201,
    summary="Request an xlsx export of a filtered list (双岗)",
    responses=_RESPONSES,
)
async def request_export(body: ExportCommand, principal: CurrentPrincipal, ctx: Context) -> ExportView:
    require_role(principal, *EXPORT_ROLES)
    async with ctx.uow() as uow:
        count = await count_filtered(uow.session, principal, body.filters)
        if count > MAX_ROWS:
            raise field_problem(
                "filters",
                f"the list has {count} students, more than {MAX_ROWS} for one workbook: narrow the filter",
                f"符合条件的学生 {count} 人，超过单个文件上限 {MAX_ROWS} 人，请缩小查询范围",
            )
        row = ExportRequest(
            id=str(uuid7()),
            requested_by=principal.account_id,
            requester_name=principal.username,
            requester_role=principal.role.value,
            org=principal.org,
            province=principal.province,
            filters=body.filters.model_dump(mode="json", exclude_none=True),
            reason=body.reason,
            count_at_request=count,
            requested_at=datetime.now(UTC),
        )
        uow.session.add(row)
        await audit.record(
            uow.session,
            principal,
            action="export.requested",
            subject_type="export",
            subject_id=row.id,
            place=await audit.place_of_principal(uow.session, principal),
            detail=f"申请导出学生名单：{body.filters.describe()}；共 {count} 人",
            data={"reason": body.reason, "count": count},
        )
        await uow.commit()
    return _view(row)


async def _of_my_org(ctx: Context, export_id: str, principal: Principal) -> ExportRequest:
    async with ctx.sessionmaker() as session:
        row = await session.scalar(select(ExportRequest).where(ExportRequest.id == export_id))
    if row is None or (row.org, row.province) != (principal.org, principal.province):
        raise not_found(f"export {export_id}")
    return row


@router.get("/exports", summary="Export requests of the caller's school or bureau", responses=_RESPONSES)
async def list_exports(principal: CurrentPrincipal, ctx: Context) -> list[ExportView]:
    require_role(principal, *EXPORT_ROLES)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(ExportRequest)
            .where(ExportRequest.org == principal.org, ExportRequest.province == principal.province)
            .order_by(ExportRequest.requested_at.desc())
            .limit(200)
        )
        return [_view(row) for row in rows]


@router.get("/exports/{export_id}", summary="One export request", responses=_RESPONSES)
async def get_export(
    export_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ExportView:
    require_role(principal, *EXPORT_ROLES)
    return _view(await _of_my_org(ctx, export_id, principal))


@router.post(
    "/exports/{export_id}/approval",
    summary="A second user of the same school or bureau approves the export",
    responses=_RESPONSES,
)
async def approve_export(
    export_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ExportView:
    require_role(principal, *EXPORT_ROLES)
    requested = await _of_my_org(ctx, export_id, principal)
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
            403, "Forbidden", title_zh="须由同单位的另一名用户审批（双岗）", slug="dual-post", detail=refusal
        )
    async with ctx.uow() as uow:
        # Only a pending request moves; a concurrent second approval finds nothing to update.
        approved = await uow.session.scalar(
            update(ExportRequest)
            .where(ExportRequest.id == export_id, ExportRequest.approved_at.is_(None))
            .values(approved_by=principal.account_id, approved_at=datetime.now(UTC))
            .returning(ExportRequest)
        )
        if approved is None:
            raise conflict("the export is already approved", slug="export-state")
        await audit.record(
            uow.session,
            principal,
            action="export.approved",
            subject_type="export",
            subject_id=export_id,
            place=await audit.place_of_principal(uow.session, principal),
            detail=f"批准导出学生名单（申请人 {requested.requester_name}）",
            data={"requested_by": requested.requested_by},
        )
        await uow.commit()
    return _view(approved)


def _workbook(heading: str, rows: list[StudentRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生名单")
    sheet.append([heading])
    sheet.append([label for _, label in _COLUMNS])
    for row in rows:
        values = row.model_dump()
        sheet.append([values[key] for key, _ in _COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@router.get(
    "/exports/{export_id}/download",
    summary="The requester downloads the approved workbook, once, within 24 hours",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
        **_RESPONSES,
    },
)
async def download_export(
    export_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> Response:
    require_role(principal, *EXPORT_ROLES)
    requested = await _of_my_org(ctx, export_id, principal)
    if requested.requested_by != principal.account_id:
        raise forbidden("only the user who requested the export may download it")
    now = datetime.now(UTC)
    state = export_state(approved_at=requested.approved_at, downloaded_at=requested.downloaded_at, now=now)
    if state != "approved":
        raise conflict(
            f"the export is {state.value}: it can be downloaded once, after approval, within 24 hours",
            slug="export-state",
        )
    filters = StudentFilter.model_validate(requested.filters)
    with tracer.start_as_current_span("export students", attributes={ATTR_EXPORT_ID: export_id}):
        async with ctx.uow() as uow:
            # Claim the single download first: two concurrent downloads cannot both get the file.
            claimed = await uow.session.scalar(
                update(ExportRequest)
                .where(ExportRequest.id == export_id, ExportRequest.downloaded_at.is_(None))
                .values(downloaded_at=now)
                .returning(ExportRequest.id)
            )
            if claimed is None:
                raise conflict("the export was already downloaded", slug="export-state")
            result = await uow.session.execute(
                filtered(principal, filters).order_by(
                    Student.school_code, Student.grade, Student.name, Student.id
                )
            )
            rows = [row_of(s, name, klass) for s, name, klass in result.all()]
            heading = (
                f"导出条件：{filters.describe()}；共 {len(rows)} 人；申请人 {requested.requester_name}；"
                f"批准人 {requested.approved_by}；导出时间 {now.isoformat(timespec='seconds')}"
            )
            content = await asyncio.to_thread(_workbook, heading, rows)
            await audit.record(
                uow.session,
                principal,
                action="export.downloaded",
                subject_type="export",
                subject_id=export_id,
                place=await audit.place_of_principal(uow.session, principal),
                detail=f"下载导出学生名单：{filters.describe()}；共 {len(rows)} 人",
                data={"count": len(rows)},
            )
            await uow.commit()
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="students-{export_id}.xlsx"'},
    )
