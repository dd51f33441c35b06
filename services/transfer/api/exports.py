"""Exporting the 跨省转学查询 list as xlsx under dual post (双岗, shared/dual_post_exports.py):
POST /api/v1/transfers/exports with the query filters of GET /api/v1/transfers and a reason in
the body; a second user of the same school or bureau approves; the requester downloads once,
within 24 hours. Student numbers and ID numbers in the workbook are masked, its first row states
the filter, and every step is in the transfer audit log."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer import audit
from services.transfer.api.queries import Filter, case_where, count_where, newest_first
from services.transfer.api.views import case_summary
from services.transfer.models import TransferExportRequest
from services.transfer.tracking import EXPORT_HEADER, CaseFilter, export_cells, export_heading
from shared.auth import Principal
from shared.dual_post_exports import DualPostExports, ExportFile, ExportStep, ListNoun, NewExport
from shared.xlsx import workbook_bytes

MAX_EXPORT_ROWS = 50_000  # one workbook; a wider list is exported per province pair or period


class ExportReason(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=200, description="why the list is exported")


async def asked_export(body: ExportReason, wanted: Filter) -> NewExport:
    # The filter comes as the list's own query string, parsed by the same dependency, so what
    # the screen showed is what is asked for.
    return NewExport(filters=wanted.stored(), reason=body.reason)


async def count_cases(session: AsyncSession, principal: Principal, asked: NewExport) -> int:
    return await count_where(session, case_where(principal, CaseFilter.from_stored(asked.filters)))


async def build_workbook(
    session: AsyncSession, principal: Principal, request: TransferExportRequest, now: datetime
) -> ExportFile:
    wanted = CaseFilter.from_stored(request.filters)
    cases = await session.scalars(
        newest_first(case_where(principal, wanted)).limit(transfer_exports.max_rows)
    )
    rows = [
        export_cells(index, case_summary(case), case.student_summary)
        for index, case in enumerate(cases, start=1)
    ]
    heading = export_heading(
        wanted, len(rows), f"{request.requester_name}（批准人 {request.approved_by}）", now
    )
    content = await asyncio.to_thread(workbook_bytes, "跨省转学查询", heading, EXPORT_HEADER, rows)
    return ExportFile(content, f"transfers-{request.id}.xlsx", len(rows))


async def audit_step(session: AsyncSession, principal: Principal, step: ExportStep) -> None:
    request: TransferExportRequest = step.request
    detail: dict[str, Any] = {
        "export": request.id,
        # masked: the log never holds a whole student number
        "filter": CaseFilter.from_stored(request.filters).as_dict(),
        "rows": step.rows,
    }
    if step.action == "export.requested":
        detail["reason"] = request.reason
    else:
        detail["requested_by"] = request.requested_by
    await audit.record(session, principal, action=step.action, subject=f"export:{request.id}", detail=detail)


transfer_exports = DualPostExports(
    model=TransferExportRequest,
    prefix="/api/v1/transfers/exports",
    tag="transfers",
    asked=asked_export,
    count=count_cases,
    build=build_workbook,
    audit=audit_step,
    noun=ListNoun("cases", "转学申请", "条"),
    max_rows=MAX_EXPORT_ROWS,
)
router = transfer_exports.router()
