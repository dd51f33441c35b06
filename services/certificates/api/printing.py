"""Printing (issue 8 "3. Printing"; seed 004 art. 17–18): print batches of a school or a bureau,
run in the background (batches/worker.py) with their progress; the printer's file and each
student's file, downloaded once the batch is done and audited; the province's print settings
(offset on the security paper, ID photo or empty frame); each school's graduate list to stamp and
keep (art. 18), as PDF and xlsx, audited.

A batch is visible to the school it prints, and to the bureaus over its scope: a region scope
under the caller's region (GB/T 2260 codes nest by prefix), or a school whose lists or
certificates are in the caller's jurisdiction. Outside that, a batch answers 404 like one that
does not exist.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.audit import record_audit
from services.certificates.batches.creating import create_batch, current_print_settings
from services.certificates.batches.files import PRINTER_FILE, batch_directory
from services.certificates.batches.rules import (
    BatchRequest,
    BatchRequestRefused,
    BatchState,
    checked_request,
    is_file_stem,
    per_student_stem,
    percent_done,
)
from services.certificates.batches.worker import print_worker_of
from services.certificates.domain.certificate_face import face_from_json
from services.certificates.models import (
    CERTIFICATE_COLUMNS,
    GRADUATION_LIST_COLUMNS,
    Certificate,
    GraduationList,
    PrintBatch,
    PrintBatchItem,
    PrintSettings,
    StudentView,
)
from services.certificates.printing.face import MAX_OFFSET_MM, GraduateListRow
from services.certificates.printing.render import CertificateRenderer, graduate_list_xlsx
from shared.auth import BUREAU_ROLES, SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.jurisdiction import jurisdiction_filter, jurisdiction_level
from shared.problems import PROBLEM_JSON, conflict, field_problem, not_found
from shared.service import Context, ServiceContext
from shared.text import PlainText
from shared.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(prefix="/api/v1", tags=["printing"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", **_PROBLEM},
    403: {"description": "Not yours to do", **_PROBLEM},
    404: {"description": "Not found in your jurisdiction", **_PROBLEM},
    409: {"description": "The batch is not done yet", **_PROBLEM},
    422: {"description": "A field is invalid", **_PROBLEM},
}

# Who asks for batches: the school's registrar for its school, bureaus for their region (the
# province prints centrally; DOMAIN.md). School leaders and bureaus read and download.
REQUESTERS = (Role.SCHOOL_REGISTRAR, *BUREAU_ROLES)
READERS = (*SCHOOL_ROLES, *BUREAU_ROLES)
BATCH_LIST_LIMIT = 200
GRADUATE_LIST_RENDERER = "graduate_list_renderer"

Purpose = Literal["draft", "issue", "reprint"]
PhotoMode = Literal["id_photo", "empty_frame"]


# --- bodies and answers -----------------------------------------------------------------------


class NewBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scope: str = Field(description="a 10-digit school code, or a 2/4/6-digit region code for a bureau")
    graduating_year: int = Field(ge=2000, le=2100)
    purpose: Purpose
    reason: PlainText | None = Field(
        None, max_length=500, description="a reprint's reason (required for one)"
    )
    certificate_ids: list[Annotated[PlainText, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=10_000,
        description="a reprint's certificates (else: the whole scope)",
    )

    @field_validator("graduating_year", mode="before")
    @classmethod
    def no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a year, not a boolean")
        return value


class BatchView(BaseModel):
    id: str
    scope: str
    graduating_year: int
    purpose: str
    reason: str | None
    state: str
    total: int
    done: int
    percent: int
    error: str | None
    draft: bool
    offset_x_mm: float
    offset_y_mm: float
    photo_mode: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    printer_file: str = Field(description="where the printer's file is downloaded once done")


class PrintSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset_x_mm: float = Field(ge=-MAX_OFFSET_MM, le=MAX_OFFSET_MM, description="to the right, mm")
    offset_y_mm: float = Field(ge=-MAX_OFFSET_MM, le=MAX_OFFSET_MM, description="downwards, mm")
    photo_mode: PhotoMode

    @field_validator("offset_x_mm", "offset_y_mm", mode="before")
    @classmethod
    def no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("millimetres, not a boolean")
        return value


class PrintSettingsView(PrintSettingsBody):
    updated_by: str
    updated_at: datetime | None


def batch_view(batch: PrintBatch) -> BatchView:
    layout = batch.layout
    return BatchView(
        id=batch.id,
        scope=batch.scope_org,
        graduating_year=batch.graduating_year,
        purpose=batch.purpose,
        reason=batch.reason,
        state=batch.state,
        total=batch.total,
        done=batch.done,
        percent=percent_done(batch.done, batch.total),
        error=batch.error,
        draft=bool(layout["draft"]),
        offset_x_mm=float(layout["offset_x_mm"]),
        offset_y_mm=float(layout["offset_y_mm"]),
        photo_mode=str(layout["photo_mode"]),
        requested_by=batch.requested_by,
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        printer_file=f"/api/v1/print-batches/{batch.id}/{PRINTER_FILE}",
    )


# --- who sees a batch ---------------------------------------------------------------------------


def batch_visible(principal: Principal) -> ColumnElement[bool]:
    """In the query, never checked after loading (shared/jurisdiction.py)."""
    level = jurisdiction_level(principal)
    in_province = PrintBatch.province == principal.province
    if level == "school":
        return and_(in_province, PrintBatch.scope_org == principal.org)
    if level not in ("province", "city", "county"):
        return false()
    region_under_caller = and_(
        func.length(PrintBatch.scope_org) <= 6, PrintBatch.scope_org.startswith(principal.org)
    )
    school_in_jurisdiction = or_(
        PrintBatch.scope_org.in_(
            select(GraduationList.school_code).where(jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS))
        ),
        PrintBatch.scope_org.in_(
            select(Certificate.school_code).where(jurisdiction_filter(principal, CERTIFICATE_COLUMNS))
        ),
    )
    return and_(in_province, or_(region_under_caller, school_in_jurisdiction))


async def visible_batch(session: AsyncSession, principal: Principal, batch_id: str) -> PrintBatch:
    batch = await session.scalar(
        select(PrintBatch).where(PrintBatch.id == batch_id, batch_visible(principal))
    )
    if batch is None:
        raise not_found(f"print batch {batch_id}")
    return batch


def done_batch(batch: PrintBatch) -> None:
    if batch.state != BatchState.DONE.value:
        raise conflict(
            f"the batch is {batch.state} ({batch.done}/{batch.total}); its files are ready when it is done",
            slug="batch-not-done",
        )


# --- batches ------------------------------------------------------------------------------------


@router.post(
    "/print-batches",
    status_code=202,
    summary="Ask for a print batch of a school or a bureau's region (rendered in the background)",
    responses=PROBLEMS,
)
async def request_batch(body: NewBatch, principal: CurrentPrincipal, ctx: Context) -> BatchView:
    require_role(principal, *REQUESTERS)
    try:
        checked = checked_request(
            BatchRequest(
                scope=body.scope,
                graduating_year=body.graduating_year,
                purpose=body.purpose,
                reason=body.reason,
                certificate_ids=tuple(body.certificate_ids),
            )
        )
        async with ctx.sessionmaker() as session:
            batch = await create_batch(session, principal, checked)
            await session.commit()
            await session.refresh(batch)
    except BatchRequestRefused as refused:
        raise field_problem(refused.field, refused.reason, refused.reason_zh) from refused
    worker = print_worker_of(ctx)
    if worker is not None:
        worker.wake.set()
    return batch_view(batch)


@router.get("/print-batches", summary="Print batches in your jurisdiction, newest first", responses=PROBLEMS)
async def list_batches(
    principal: CurrentPrincipal,
    ctx: Context,
    state: Annotated[Literal["queued", "running", "done", "failed"] | None, Query()] = None,
    graduating_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[BatchView]:
    require_role(principal, *READERS)
    query = select(PrintBatch).where(batch_visible(principal))
    if state is not None:
        query = query.where(PrintBatch.state == state)
    if graduating_year is not None:
        query = query.where(PrintBatch.graduating_year == graduating_year)
    async with ctx.sessionmaker() as session:
        batches = await session.scalars(
            query.order_by(PrintBatch.created_at.desc(), PrintBatch.id.desc()).limit(BATCH_LIST_LIMIT)
        )
        return [batch_view(b) for b in batches]


@router.get("/print-batches/{batch_id}", summary="A batch's state and progress", responses=PROBLEMS)
async def get_batch(batch_id: str, principal: CurrentPrincipal, ctx: Context) -> BatchView:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        return batch_view(await visible_batch(session, principal, batch_id))


def _pdf(path: Path, filename: str) -> FileResponse:
    if not path.is_file():
        raise not_found(f"file {filename}")
    return FileResponse(path, media_type="application/pdf", filename=filename)


@router.get(
    "/print-batches/{batch_id}/printer.pdf",
    summary="The printer's file: every page of the batch in print order (audited)",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}, **PROBLEMS},
)
async def printer_file(batch_id: str, principal: CurrentPrincipal, ctx: Context) -> FileResponse:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        batch = await visible_batch(session, principal, batch_id)
        done_batch(batch)
        path = batch_directory(ctx.settings.certificate_output_dir, batch.id) / PRINTER_FILE
        response = _pdf(path, f"print-batch-{batch.id}.pdf")
        detail = {"file": PRINTER_FILE, "purpose": batch.purpose, "count": batch.total}
        await record_audit(session, principal, "print_batch.downloaded", batch.id, detail)
        await session.commit()
    return response


async def _item_of_stem(session: AsyncSession, batch: PrintBatch, stem: str) -> bool:
    """Whether a per-student file of this name belongs to the batch (a number of one of its
    certificates, or a draft's position)."""
    if stem.startswith("draft-") and stem[6:].isdigit():
        seq = int(stem[6:])
        return per_student_stem(None, seq) == stem and 0 <= seq < batch.total
    found = await session.scalar(
        select(PrintBatchItem.seq)
        .join(Certificate, Certificate.id == PrintBatchItem.certificate_id)
        .where(PrintBatchItem.batch_id == batch.id, Certificate.number == stem)
        .limit(1)
    )
    return found is not None


@router.get(
    "/print-batches/{batch_id}/files/{stem}.pdf",
    summary="One student's file of a batch, by certificate number (audited)",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}, **PROBLEMS},
)
async def student_file(batch_id: str, stem: str, principal: CurrentPrincipal, ctx: Context) -> FileResponse:
    require_role(principal, *READERS)
    if not is_file_stem(stem):
        raise field_problem("number", "not a certificate number", "证书编号格式不正确")
    async with ctx.sessionmaker() as session:
        batch = await visible_batch(session, principal, batch_id)
        done_batch(batch)
        if not await _item_of_stem(session, batch, stem):
            raise not_found(f"certificate {stem} in batch {batch_id}")
        response = _pdf(
            batch_directory(ctx.settings.certificate_output_dir, batch.id) / f"{stem}.pdf", f"{stem}.pdf"
        )
        await record_audit(session, principal, "print_batch.downloaded", batch.id, {"file": f"{stem}.pdf"})
        await session.commit()
    return response


# --- print settings -----------------------------------------------------------------------------


def settings_view(row: PrintSettings) -> PrintSettingsView:
    return PrintSettingsView(
        offset_x_mm=row.offset_x_mm,
        offset_y_mm=row.offset_y_mm,
        photo_mode=row.photo_mode,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


@router.get("/print-settings", summary="The province's print settings", responses=PROBLEMS)
async def get_print_settings(principal: CurrentPrincipal, ctx: Context) -> PrintSettingsView:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        return settings_view(await current_print_settings(session))


@router.put(
    "/print-settings",
    summary="Set the offset on the security paper and the photo mode (province; new batches use them)",
    responses=PROBLEMS,
)
async def put_print_settings(
    body: PrintSettingsBody, principal: CurrentPrincipal, ctx: Context
) -> PrintSettingsView:
    require_role(principal, Role.PROVINCE)
    async with ctx.sessionmaker() as session:
        row = await session.get(PrintSettings, 1, with_for_update=True)
        if row is None:
            row = PrintSettings(id=1, updated_by=principal.account_id)
            session.add(row)
        before = {
            "offset_x_mm": row.offset_x_mm,
            "offset_y_mm": row.offset_y_mm,
            "photo_mode": row.photo_mode,
        }
        row.offset_x_mm = body.offset_x_mm
        row.offset_y_mm = body.offset_y_mm
        row.photo_mode = body.photo_mode
        row.updated_by = principal.account_id
        row.updated_at = func.now()
        await record_audit(
            session,
            principal,
            "print_settings.updated",
            "print_settings",
            {"before": before, **body.model_dump()},
        )
        await session.commit()
        await session.refresh(row)
        return settings_view(row)


# --- graduate lists (art. 18) ---------------------------------------------------------------------


async def _graduates(
    session: AsyncSession, principal: Principal, school_code: str, year: int
) -> tuple[str, date, list[GraduateListRow]]:
    """The school's issued graduates of the year, in class and name order: its name (as
    printed on the certificates), the latest issue date, the rows."""
    certificates = list(
        await session.scalars(
            select(Certificate)
            .outerjoin(StudentView, StudentView.student_id == Certificate.student_id)
            .where(
                Certificate.school_code == school_code,
                Certificate.graduating_year == year,
                Certificate.kind == "graduation",
                Certificate.status == "valid",
                jurisdiction_filter(principal, CERTIFICATE_COLUMNS),
            )
            .order_by(StudentView.class_id.nulls_last(), Certificate.name, Certificate.number)
        )
    )
    if not certificates:
        raise not_found(f"graduates of school {school_code} in {year}")
    faces = [face_from_json(c.face) for c in certificates]
    rows = [
        GraduateListRow(
            name=face.name,
            sex=face.sex,
            id_number=face.id_number,
            major_name=face.major_name,
            skill_direction=face.skill_direction,
            outcome=face.outcome,
            certificate_number=face.number,
        )
        for face in faces
    ]
    return faces[0].school_name, max(c.issued_on for c in certificates), rows


def _list_renderer(ctx: ServiceContext) -> CertificateRenderer:
    # One renderer for the rare graduate list, kept warm in the process (fonts load once); its
    # own lock serialises two lists asked at once.
    renderer: CertificateRenderer | None = ctx.extras.get(GRADUATE_LIST_RENDERER)
    if renderer is None:
        renderer = CertificateRenderer()
        ctx.extras[GRADUATE_LIST_RENDERER] = renderer
    return renderer


async def _graduate_list(
    ctx: ServiceContext, principal: Principal, school_code: str, year: int, kind: Literal["pdf", "xlsx"]
) -> Response:
    require_role(principal, *READERS)
    if not is_file_stem(school_code) or len(school_code) != 10 or not school_code.isdigit():
        raise field_problem("school_code", "a 10-digit school code", "应为10位学校标识码")
    async with ctx.sessionmaker() as session:
        school_name, issued_on, rows = await _graduates(session, principal, school_code, year)
        if kind == "pdf":
            renderer = _list_renderer(ctx)
            content = await asyncio.to_thread(
                renderer.render_graduate_list, school_name, year, rows, issued_on
            )
        else:
            content = await asyncio.to_thread(graduate_list_xlsx, school_name, year, rows, issued_on)
        detail = {"school": school_code, "year": year, "format": kind, "count": len(rows)}
        await record_audit(session, principal, "graduate_list.downloaded", f"{school_code}/{year}", detail)
        await session.commit()
    media_type = "application/pdf" if kind == "pdf" else XLSX_MEDIA_TYPE
    filename = f"graduates-{school_code}-{year}.{kind}"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/graduate-lists/{school_code}/{year}.pdf",
    summary="A school's graduate list of a year, to stamp and keep (art. 18; audited)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **PROBLEMS},
)
async def graduate_list_pdf(
    school_code: str,
    year: Annotated[int, PathParam(ge=2000, le=2100)],
    principal: CurrentPrincipal,
    ctx: Context,
) -> Response:
    return await _graduate_list(ctx, principal, school_code, year, "pdf")


@router.get(
    "/graduate-lists/{school_code}/{year}.xlsx",
    summary="The same graduate list as a workbook (audited)",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **PROBLEMS},
)
async def graduate_list_workbook(
    school_code: str,
    year: Annotated[int, PathParam(ge=2000, le=2100)],
    principal: CurrentPrincipal,
    ctx: Context,
) -> Response:
    return await _graduate_list(ctx, principal, school_code, year, "xlsx")
