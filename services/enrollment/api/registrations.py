"""Registration by Excel (DOMAIN.md "Enrollment", seed 003): download the template, upload a
class's workbook, follow its progress, read the per-row report, download the failed rows."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from services.enrollment.domain.registration import IdType
from services.enrollment.imports.template import (
    UnreadableWorkbook,
    failed_rows_workbook,
    read_sheet,
    template_workbook,
)
from services.enrollment.imports.worker import worker_of
from services.enrollment.models.imports import IMPORT_ORG, RegistrationImport, RegistrationImportRow
from services.enrollment.registering import class_of_school
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1/registrations", tags=["registrations"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 100,000 rows of the template are about 5 MB
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {}}, "description": "xlsx"}}
_COMMON: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "Not a school account", **_PROBLEM},
    404: {"description": "No such import inside the caller's jurisdiction", **_PROBLEM},
    422: {"description": "A parameter is invalid", **_PROBLEM},
}


class ImportAccepted(BaseModel):
    id: str
    status: str
    duplicate_upload: bool = False


class ImportProgress(BaseModel):
    id: str
    class_id: str
    kind: Literal["class", "retry"]
    retry_of: str | None
    id_type: IdType
    filename: str
    status: Literal["queued", "running", "done"]
    total: int | None
    processed: int
    registered: int
    failed: int


class RowProblem(BaseModel):
    column: str
    reason_zh: str
    reason_en: str


class RowReport(BaseModel):
    row: int
    message_zh: str  # "第5行【身份证号】身份证号码校验位不正确…"
    problems: list[RowProblem]


class ImportReport(BaseModel):
    id: str
    status: str
    failed_rows: list[RowReport]
    notes: list[str]  # registered rows worth a look, e.g. temporary numbers


def _file_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload.xlsx"


@router.get(
    "/template",
    summary="The Excel template for one ID type, Chinese headers and an example row (下载模板)",
    response_class=Response,
    responses={**_XLSX_RESPONSE, **_COMMON},
)
async def download_template(
    principal: CurrentPrincipal,
    id_type: Annotated[Literal["resident_id", "hk_macao_taiwan", "passport"], Query()] = "resident_id",
) -> Response:
    require_role(principal, *SCHOOL_ROLES)
    return Response(
        template_workbook(id_type),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="registration-template-{id_type}.xlsx"'},
    )


@router.post(
    "/imports",
    status_code=202,
    summary="Upload a class's filled template; it is validated and registered in the background",
    responses={
        **_COMMON,
        403: {"description": "Only the school registrar of the class's school", **_PROBLEM},
        409: {"description": "This class has been imported already", **_PROBLEM},
        413: {"description": "The file is too large", **_PROBLEM},
    },
)
async def upload_import(
    principal: CurrentPrincipal,
    ctx: Context,
    file: Annotated[UploadFile, File(description="the filled template (.xlsx)")],
    class_id: Annotated[str, Form(min_length=1, max_length=40)],
) -> ImportAccepted:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise Problem(413, "Payload too large", title_zh="文件过大", detail="the file exceeds 20 MB")
    try:
        # Off the event loop: a 100,000-row workbook takes a second to read.
        sheet = await asyncio.to_thread(read_sheet, content)
    except UnreadableWorkbook as exc:
        raise field_problem("file", exc.reason_en, exc.reason_zh) from None
    if not sheet.rows:
        raise field_problem("file", "the workbook has no student rows", "工作簿中没有学生数据行")
    digest = hashlib.sha256(content).hexdigest()
    async with ctx.uow() as uow:
        found = await class_of_school(uow.session, class_id, principal.org)
        if found is None:
            raise field_problem("class_id", "no such class in your school", "本校没有该班级")
        school = found[1]
        same = await _same_file(ctx, class_id, digest)
        if same is not None:
            # The same file again: the same import, never a second set of students.
            return ImportAccepted(id=same.id, status=same.status, duplicate_upload=True)
        kind = "class"
        if sheet.retry_of is not None:
            parent = await uow.session.get(RegistrationImport, sheet.retry_of)
            if parent is None or parent.class_id != class_id:
                raise field_problem(
                    "file",
                    "this failed-rows workbook belongs to another class's import",
                    "该失败行工作簿不属于本班级的导入",
                )
            kind = "retry"
        job = RegistrationImport(
            id=str(uuid7()),
            class_id=class_id,
            province_code=school.province_code,
            city_code=school.city_code,
            county_code=school.county_code,
            school_code=school.code,
            kind=kind,
            retry_of=sheet.retry_of,
            id_type=sheet.id_type,
            filename=_file_name(file.filename or ""),
            content_sha256=digest,
            content=content,
            status="queued",
            processed=0,
            registered=0,
            failed=0,
            created_by=principal.account_id,
        )
        uow.session.add(job)
        try:
            await uow.commit()
        except IntegrityError:
            twin = await _same_file(ctx, class_id, digest)
            if twin is not None:  # the same file, sent twice at once: one import
                return ImportAccepted(id=twin.id, status=twin.status, duplicate_upload=True)
            raise Problem(
                409,
                "Class already imported",
                title_zh="该班级已导入过",
                slug="class-already-imported",
                detail=f"class {class_id} has been imported once; upload the failed-rows workbook "
                "of that import, fixed, instead (每个班级只能导入一次，请下载失败行修改后上传)",
            ) from None
    worker_of(ctx).wake.set()
    return ImportAccepted(id=job.id, status="queued")


async def _same_file(ctx: Context, class_id: str, digest: str) -> RegistrationImport | None:
    async with ctx.sessionmaker() as session:
        job: RegistrationImport | None = await session.scalar(
            select(RegistrationImport).where(
                RegistrationImport.class_id == class_id, RegistrationImport.content_sha256 == digest
            )
        )
        return job


async def _job(ctx: Context, principal: Principal, import_id: str) -> RegistrationImport:
    async with ctx.sessionmaker() as session:
        job = await session.scalar(
            select(RegistrationImport).where(
                RegistrationImport.id == import_id, jurisdiction_filter(principal, IMPORT_ORG)
            )
        )
    if job is None:
        raise not_found(f"import {import_id}")
    return job


class ImportList(BaseModel):
    items: list[ImportProgress]


@router.get("/imports", summary="Imports in the caller's jurisdiction, newest first", responses=_COMMON)
async def list_imports(
    principal: CurrentPrincipal,
    ctx: Context,
    class_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ImportList:
    query = select(RegistrationImport).where(jurisdiction_filter(principal, IMPORT_ORG))
    if class_id is not None:
        query = query.where(RegistrationImport.class_id == class_id)
    async with ctx.sessionmaker() as session:
        jobs = await session.scalars(query.order_by(RegistrationImport.created_at.desc()).limit(limit))
        return ImportList(items=[_progress(job) for job in jobs])


@router.get("/imports/{import_id}", summary="Progress of an import", responses=_COMMON)
async def import_progress(
    import_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ImportProgress:
    return _progress(await _job(ctx, principal, import_id))


def _progress(job: RegistrationImport) -> ImportProgress:
    return ImportProgress(
        id=job.id,
        class_id=job.class_id,
        kind=job.kind,
        retry_of=job.retry_of,
        id_type=job.id_type,
        filename=job.filename,
        status=job.status,
        total=job.total,
        processed=job.processed,
        registered=job.registered,
        failed=job.failed,
    )


async def _rows(ctx: Context, import_id: str, status: str) -> list[RegistrationImportRow]:
    async with ctx.sessionmaker() as session:
        return list(
            await session.scalars(
                select(RegistrationImportRow)
                .where(RegistrationImportRow.import_id == import_id, RegistrationImportRow.status == status)
                .order_by(RegistrationImportRow.row_number)
            )
        )


def _message(row: RegistrationImportRow) -> str:
    return f"第{row.row_number}行 " + "；".join(f"【{p['column']}】{p['reason_zh']}" for p in row.problems)


@router.get(
    "/imports/{import_id}/report", summary="Per-row problems, in Chinese (导入问题报告)", responses=_COMMON
)
async def import_report(
    import_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ImportReport:
    job = await _job(ctx, principal, import_id)
    failed = await _rows(ctx, import_id, "failed")
    registered = await _rows(ctx, import_id, "registered")
    return ImportReport(
        id=job.id,
        status=job.status,
        failed_rows=[
            RowReport(
                row=r.row_number,
                message_zh=_message(r),
                problems=[RowProblem(**p) for p in r.problems],
            )
            for r in failed
        ],
        notes=[f"第{r.row_number}行 {r.note}" for r in registered if r.note],
    )


@router.get(
    "/imports/{import_id}/failed-rows.xlsx",
    summary="Only the failed rows, with the reason beside each; fix and upload again",
    response_class=Response,
    responses={**_XLSX_RESPONSE, **_COMMON},
)
async def failed_rows(
    import_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> Response:
    job = await _job(ctx, principal, import_id)
    rows = await _rows(ctx, import_id, "failed")
    body = failed_rows_workbook(
        job.id_type,  # type: ignore[arg-type]
        job.id,
        [(r.row_number, r.values, _message(r)) for r in rows],
    )
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="failed-rows-{job.id}.xlsx"'},
    )
