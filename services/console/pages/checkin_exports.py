"""Exports of a round's lists under dual post (双岗): the requester asks with a reason from the
list page (exactly the filtered list), a second user of the same office approves here, and the
requester downloads the workbook once."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage

exports_router = APIRouter(include_in_schema=False)


async def _exports_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    mine = await page.get("checkin", "/api/v1/exports", params={"view": "mine"})
    to_approve = await page.get("checkin", "/api/v1/exports", params={"view": "to_approve"})
    return page.render(
        "checkin/exports.html",
        {
            "when": labels.china_time,
            "mine": mine,
            "to_approve": to_approve,
            "export_states": labels.EXPORT_STATES,
            "list_kinds": labels.LIST_KINDS,
            "done": page.request.query_params.get("done", ""),
            "problem": problem,
        },
        status_code=problem.status if problem else 200,
    )


@exports_router.get("/checkin/exports")
async def exports(page: StaffPage) -> HTMLResponse:
    return await _exports_page(page)


@exports_router.post("/checkin/exports")
async def request_export(
    page: StaffPage,
    kind: Annotated[str, Form()],
    round_id: Annotated[UUID, Form()],
    reason: Annotated[str, Form()],
    filters: Annotated[str, Form()] = "",
) -> Response:
    body = {
        "kind": kind,
        "round_id": str(round_id),
        "filters": dict(parse_qsl(filters)),
        "reason": reason.strip(),
    }
    try:
        await page.post("checkin", "/api/v1/exports", json=body)
    except UpstreamProblem as problem:
        return await _exports_page(page, problem)
    return RedirectResponse("/checkin/exports?done=requested", status_code=303)


@exports_router.post("/checkin/exports/{export_id}/approval")
async def approve_export(page: StaffPage, export_id: UUID) -> Response:
    try:
        await page.post("checkin", f"/api/v1/exports/{export_id}/approval")
    except UpstreamProblem as problem:
        return await _exports_page(page, problem)
    return RedirectResponse("/checkin/exports?done=approved", status_code=303)


@exports_router.get("/checkin/exports/{export_id}/download")
async def download_export(page: StaffPage, export_id: UUID) -> Response:
    answer = await page.call("checkin", "GET", f"/api/v1/exports/{export_id}/download")
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
