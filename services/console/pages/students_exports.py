"""Exporting the student list under dual post (双岗): the first user asks for exactly the filtered
list with a reason, a second user of the same school or bureau approves, then the requester
downloads the workbook once. Enrollment's ``/api/v1/exports`` does each step and its checks
(shared/dual_post_exports.py); these pages only carry them.

The router is included by pages/students.py ahead of ``/students/{student_id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import students_query as q
from services.console.upstream import UpstreamProblem
from services.console.web import PathId, StaffPage
from shared.auth import Role

exports_router = APIRouter(include_in_schema=False)

# Who may ask for and approve exports (enrollment's EXPORT_ROLES); others are not offered the button.
EXPORT_ROLES = frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _count(page: StaffPage, filters: dict[str, str]) -> int:
    found = await page.get("enrollment", "/api/v1/students/search", params={**filters, "limit": 1})
    return int(found["total"])


def _new_form(
    page: StaffPage, filters: dict[str, str], total: int, problem: UpstreamProblem | None = None
) -> HTMLResponse:
    return page.render(
        "students/export_new.html",
        {"filters": filters, "total": total, "problem": problem, "q": q},
        status_code=problem.status if problem else 200,
    )


@exports_router.get("/students/exports/new")
async def new_export(page: StaffPage) -> HTMLResponse:
    filters = q.form_filters(page.request.query_params)
    return _new_form(page, filters, await _count(page, filters))


@exports_router.post("/students/exports")
async def request_export(page: StaffPage) -> Response:
    form = await page.request.form()
    fields = {key: str(value) for key, value in form.items()}
    filters = q.form_filters(fields)
    body = {"filters": q.export_filters(filters), "reason": fields.get("reason", "").strip()}
    try:
        created = await page.post("enrollment", "/api/v1/exports", json=body)
    except UpstreamProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        return _new_form(page, filters, await _count(page, filters), problem)
    return RedirectResponse(f"/students/exports?requested={created['id']}", status_code=303)


@exports_router.get("/students/exports")
async def export_list(page: StaffPage) -> HTMLResponse:
    mine: list[Any] = await page.get("enrollment", "/api/v1/exports", params={"view": "mine"})
    to_approve: list[Any] = await page.get("enrollment", "/api/v1/exports", params={"view": "to_approve"})
    params = page.request.query_params
    return page.render(
        "students/exports.html",
        {
            "mine": mine,
            "to_approve": to_approve,
            "requested": params.get("requested", ""),
            "approved": params.get("approved", ""),
            "q": q,
        },
    )


@exports_router.post("/students/exports/{export_id}/approval")
async def approve_export(page: StaffPage, export_id: PathId) -> Response:
    await page.post("enrollment", f"/api/v1/exports/{export_id}/approval")
    return RedirectResponse(f"/students/exports?approved={export_id}", status_code=303)


@exports_router.get("/students/exports/{export_id}/download")
async def download_export(page: StaffPage, export_id: PathId) -> Response:
    answer = await page.call("enrollment", "GET", f"/api/v1/exports/{export_id}/download")
    filename = f"students-{export_id}.xlsx"
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", XLSX),
        headers={
            "Content-Disposition": answer.headers.get(
                "content-disposition", f'attachment; filename="{filename}"'
            ),
            "Cache-Control": "no-store",  # personal data: not kept in the browser's cache
        },
    )
