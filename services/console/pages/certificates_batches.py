"""Certificate printing (证书打印): the print batches in the caller's jurisdiction, asking for a
new one (rendered in the background by certificates), its progress fragment polled by htmx until
done, and the downloads: the printer's file and each student's file.

A double click must not print twice: the button disables on the first click, and the form carries
a key made when the page was rendered; a second post with the same key gets the batch the first
one made (kept in this process, WEB.md "the job id is the idempotency key").
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import OrderedDict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.console.i18n import marked as _
from services.console.pages import certificates_common as common
from services.console.pages.certificates_lists import message
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage, finished

router = APIRouter(include_in_schema=False)

FINISHED_STATES = frozenset({"done", "failed"})
REMEMBERED_KEYS = 1000
PDF = "application/pdf"
# A per-student file's name: a certificate number or a draft's position (certificates' rule).
FILE_STEM = re.compile(r"[0-9A-Za-z-]{1,64}")


class BatchKeys:
    """Form key → the batch it made, for the last ``REMEMBERED_KEYS`` requests of this process.
    One lock: two posts of the same key (a double click) must not both reach the service."""

    def __init__(self) -> None:
        self._made: OrderedDict[str, str] = OrderedDict()
        self.lock = asyncio.Lock()

    def made(self, key: str) -> str | None:
        return self._made.get(key)

    def remember(self, key: str, batch_id: str) -> None:
        self._made[key] = batch_id
        while len(self._made) > REMEMBERED_KEYS:
            self._made.popitem(last=False)


KEYS = BatchKeys()


@router.get("/certificates/batches")
async def batches(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    query: dict[str, str | int] = {}
    state = params.get("state") or ""
    if state in common.BATCH_STATE_LABELS:
        query["state"] = state
    year = params.get("year") or ""
    if year.isdigit() and common.EARLIEST_YEAR <= int(year) <= common.LATEST_YEAR:
        query["graduating_year"] = int(year)
    found = await page.get("certificates", "/api/v1/print-batches", params=query)
    rows = [b for b in found if common.batch_visible_in_scope(b["scope"], page.scope)]
    principal = page.viewer.principal
    return page.render(
        "certificates/batches.html",
        {
            **common.labels(),
            "rows": rows,
            "state": state if state in common.BATCH_STATE_LABELS else "",
            "year": query.get("graduating_year", ""),
            "may_request": principal.role in common.BATCH_REQUESTERS,
            "default_scope": common.batch_scope_default(principal, page.scope),
            "default_year": date.today().year,
            "form_key": uuid.uuid4().hex,
        },
    )


@router.post("/certificates/batches")
async def request_batch(
    page: StaffPage,
    scope: Annotated[str, Form(max_length=10)],
    graduating_year: Annotated[int, Form(ge=2000, le=2100)],
    purpose: Annotated[str, Form()],
    form_key: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if purpose not in common.PURPOSE_LABELS:
        return message(page, _("请选择打印类型"))
    if purpose == "reprint" and not reason.strip():
        return message(page, _("补打证书须填写原因"))
    async with KEYS.lock:
        batch_id = KEYS.made(form_key)
        if batch_id is None:
            body: dict[str, Any] = {
                "scope": scope.strip(),
                "graduating_year": graduating_year,
                "purpose": purpose,
            }
            if reason.strip():
                body["reason"] = reason.strip()
            made = await page.post("certificates", "/api/v1/print-batches", json=body)
            batch_id = str(made["id"])
            KEYS.remember(form_key, batch_id)
    return finished(page, f"/certificates/batches/{batch_id}")


async def _batch(page: Page, batch_id: str) -> dict[str, Any]:
    batch: dict[str, Any] = await page.get("certificates", f"/api/v1/print-batches/{batch_id}")
    return batch


async def _files(page: Page, batch: dict[str, Any]) -> list[dict[str, str]]:
    """The per-student files of a finished batch, as far as the page can name them: a draft's
    by position; an issue batch of one school by its certificates of the year (the batch printed
    the valid ones). Others are downloaded by number with the form on the page."""
    if batch["state"] != "done":
        return []
    if batch["purpose"] == "draft":
        return [
            {"stem": f"draft-{seq:05d}", "label": f"{seq + 1}"} for seq in range(min(batch["total"], 500))
        ]
    if batch["purpose"] != "issue" or not common.SCHOOL_CODE.fullmatch(batch["scope"]):
        return []
    found = await page.get(
        "certificates",
        "/api/v1/certificates",
        params={"school": batch["scope"], "year": batch["graduating_year"], "status": "valid", "limit": 500},
    )
    return [{"stem": c["number"], "label": f"{c['name']} {c['number_grouped']}"} for c in found["items"]]


@router.get("/certificates/batches/{batch_id}")
async def batch_page(batch_id: str, page: StaffPage) -> HTMLResponse:
    batch = await _batch(page, batch_id)
    return page.render(
        "certificates/batch.html",
        {**common.labels(), "batch": batch, "files": await _files(page, batch)},
    )


@router.get("/certificates/batches/{batch_id}/progress")
async def progress(batch_id: str, page: StaffPage) -> HTMLResponse:
    """The fragment htmx polls every second; once the batch is finished it stops polling (the
    fragment no longer carries the trigger) and offers the downloads."""
    batch = await _batch(page, batch_id)
    return page.render(
        "certificates/_progress.html",
        {**common.labels(), "batch": batch, "files": await _files(page, batch)},
    )


async def _pdf(page: Page, path: str, filename: str) -> Response:
    upstream = await page.call("certificates", "GET", path)
    if not upstream.content.startswith(b"%PDF"):
        raise UpstreamProblem(502, "Not a PDF", "打印文件无效")
    return Response(
        upstream.content,
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/certificates/batches/{batch_id}/printer.pdf")
async def printer_file(batch_id: str, page: StaffPage) -> Response:
    return await _pdf(page, f"/api/v1/print-batches/{batch_id}/printer.pdf", f"print-batch-{batch_id}.pdf")


@router.get("/certificates/batches/{batch_id}/files/{stem}.pdf")
async def student_file(batch_id: str, stem: str, page: StaffPage) -> Response:
    if not FILE_STEM.fullmatch(stem):
        raise UpstreamProblem(422, "Not a certificate number", "证书编号格式不正确")
    return await _pdf(page, f"/api/v1/print-batches/{batch_id}/files/{stem}.pdf", f"{stem}.pdf")


@router.get("/certificates/graduates/{school_code}/{year}.pdf")
async def graduate_list(school_code: str, year: int, page: StaffPage) -> Response:
    """The school's graduate list of the year, to stamp and keep (seed 004 art. 18)."""
    if not common.SCHOOL_CODE.fullmatch(school_code):
        raise UpstreamProblem(422, "A 10-digit school code", "应为10位学校标识码")
    return await _pdf(
        page, f"/api/v1/graduate-lists/{school_code}/{year}.pdf", f"graduates-{school_code}-{year}.pdf"
    )


@router.get("/certificates/batches/{batch_id}/file")
async def student_file_by_number(batch_id: str, page: StaffPage) -> Response:
    """The form's download by certificate number (spaces and hyphens as printed are dropped)."""
    typed = page.request.query_params.get("number", "")
    stem = "".join(ch for ch in typed if ch.isascii() and ch.isalnum())
    if not stem:
        raise UpstreamProblem(422, "Enter a certificate number", "请输入证书编号")
    return await _pdf(page, f"/api/v1/print-batches/{batch_id}/files/{stem}.pdf", f"{stem}.pdf")
