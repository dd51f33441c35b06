"""Exporting the student list to xlsx under dual post (双岗, shared/dual_post_exports.py):
request → a second user of the same school or bureau approves → the requester downloads once,
within 24 hours. Every step is audit-logged; the workbook is exactly the filtered list, its first
row says the filter and the count, and ID numbers in it are masked like on screen."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment import audit
from services.enrollment.api.queries import StudentRow, count_filtered, filtered, row_of
from services.enrollment.models import Student
from services.enrollment.models.exports import ExportRequest
from services.enrollment.student_query import StudentFilter
from shared.auth import Principal
from shared.dual_post_exports import (
    DualPostExports,
    ExportFile,
    ExportStep,
    ExportView,
    ListNoun,
    NewExport,
)

MAX_ROWS = 100_000  # one workbook; a province-wide list is exported per school or county
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


class StudentExportView(ExportView):
    filter_text: str


async def asked_export(body: ExportCommand) -> NewExport:
    return NewExport(
        filters=body.filters.model_dump(mode="json", exclude_none=True),
        reason=body.reason,
        columns={"id": str(uuid7())},
    )


def _filters(stored: dict[str, Any]) -> StudentFilter:
    return StudentFilter.model_validate(stored)


async def count_students(session: AsyncSession, principal: Principal, asked: NewExport) -> int:
    return await count_filtered(session, principal, _filters(asked.filters))


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


async def build_workbook(
    session: AsyncSession, principal: Principal, request: ExportRequest, now: datetime
) -> ExportFile:
    filters = _filters(request.filters)
    result = await session.execute(
        filtered(principal, filters).order_by(Student.school_code, Student.grade, Student.name, Student.id)
    )
    rows = [row_of(s, name, klass) for s, name, klass in result.all()]
    heading = (
        f"导出条件：{filters.describe()}；共 {len(rows)} 人；申请人 {request.requester_name}；"
        f"批准人 {request.approved_by}；导出时间 {now.isoformat(timespec='seconds')}"
    )
    content = await asyncio.to_thread(_workbook, heading, rows)
    return ExportFile(content, f"students-{request.id}.xlsx", len(rows))


async def audit_step(session: AsyncSession, principal: Principal, step: ExportStep) -> None:
    request: ExportRequest = step.request
    described = _filters(request.filters).describe()
    if step.action == "export.requested":
        detail = f"申请导出学生名单：{described}；共 {step.rows} 人"
        data: dict[str, object] = {"reason": request.reason, "count": step.rows}
    elif step.action == "export.approved":
        detail = f"批准导出学生名单（申请人 {request.requester_name}）"
        data = {"requested_by": request.requested_by}
    else:
        detail = f"下载导出学生名单：{described}；共 {step.rows} 人"
        data = {"count": step.rows}
    await audit.record(
        session,
        principal,
        action=step.action,
        subject_type="export",
        subject_id=request.id,
        place=await audit.place_of_principal(session, principal),
        detail=detail,
        data=data,
    )


student_exports = DualPostExports(
    model=ExportRequest,
    prefix="/api/v1/exports",
    tag="exports",
    asked=asked_export,
    count=count_students,
    build=build_workbook,
    audit=audit_step,
    noun=ListNoun("students", "学生", "人"),
    max_rows=MAX_ROWS,
    view_type=StudentExportView,
    view_extra=lambda row: {"filter_text": _filters(row.filters).describe()},
)
router = student_exports.router()
