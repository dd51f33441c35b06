"""Exporting the 跨省转学查询 list (双岗): the registrar or bureau asks with the list's own filters
and a reason, a second user of the same office approves, the asker downloads once. The service
keeps the requests and builds the workbook; these pages only carry the steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages.transfers_labels import EXPORT_STATE_LABELS, china_time, export_filters
from services.console.web import StaffPage

exports_router = APIRouter(include_in_schema=False)
EXPORTS = "/api/v1/transfers/exports"


@exports_router.get("/transfers/exports")
async def export_requests(page: StaffPage) -> HTMLResponse:
    mine = await page.get("transfer", EXPORTS, params={"view": "mine"})
    to_approve = await page.get("transfer", EXPORTS, params={"view": "to_approve"})
    return page.render(
        "transfers/exports.html",
        {
            "mine": mine,
            "to_approve": to_approve,
            "export_states": EXPORT_STATE_LABELS,
            "china_time": china_time,
        },
    )


@exports_router.post("/transfers/exports")
async def ask_export(
    page: StaffPage, query: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = ""
) -> Response:
    # The list's query string, as the page showed it: the same filters go to the service. The
    # console's own page parameter is left out (the export is the whole filtered list).
    await page.call(
        "transfer", "POST", EXPORTS, params=export_filters(query), json={"reason": reason.strip()}
    )
    return RedirectResponse("/transfers/exports", status_code=303)


@exports_router.post("/transfers/exports/{export_id}/approval")
async def approve_export(page: StaffPage, export_id: str) -> Response:
    await page.call("transfer", "POST", f"{EXPORTS}/{export_id}/approval")
    return RedirectResponse("/transfers/exports", status_code=303)


@exports_router.get("/transfers/exports/{export_id}/download")
async def download_export(page: StaffPage, export_id: str) -> Response:
    answer = await page.call("transfer", "GET", f"{EXPORTS}/{export_id}/download")
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
