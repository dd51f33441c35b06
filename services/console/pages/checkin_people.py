"""Leave approvals (请假) and internship placements (实习). Deciding a leave takes an opinion; the
service checks that the caller is the one who decides and answers with its reason otherwise."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.pages.checkin_paged import list_page, state_filter
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage

people_router = APIRouter(include_in_schema=False)
DECISIONS = {"approve", "reject"}


async def _leaves_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    state = state_filter(page, labels.LEAVE_STATES)
    return await list_page(
        page,
        "/api/v1/leaves",
        {"state": state} if state else {},
        "checkin/leaves.html",
        {"state": state, "leave_states": labels.LEAVE_STATES},
        problem,
    )


@people_router.get("/checkin/leaves")
async def leaves(page: StaffPage) -> HTMLResponse:
    return await _leaves_page(page)


@people_router.post("/checkin/leaves/{leave_id}/decision")
async def decide_leave(
    page: StaffPage, leave_id: UUID, decision: Annotated[str, Form()], opinion: Annotated[str, Form()] = ""
) -> Response:
    body = {"decision": decision, "opinion": opinion.strip() or None}
    try:
        await page.post("checkin", f"/api/v1/leaves/{leave_id}/decision", json=body)
    except UpstreamProblem as problem:
        return await _leaves_page(page, problem)
    return RedirectResponse(
        f"/checkin/leaves?done={decision if decision in DECISIONS else ''}", status_code=303
    )


@people_router.get("/checkin/internships")
async def internships(page: StaffPage) -> HTMLResponse:
    active_on = page.request.query_params.get("active_on", "")
    query = {"active_on": active_on} if active_on else {}
    return await list_page(
        page, "/api/v1/internships", query, "checkin/internships.html", {"active_on": active_on}
    )
