"""Leave approvals (请假), internship placements (实习) and miss prompts with their appeals
(未核验提醒与申诉). Deciding a leave or an appeal takes an opinion; the service checks that the
caller is the one who decides and answers with its reason otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.paging import page_number, paged
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage

people_router = APIRouter(include_in_schema=False)
DECISIONS = {"approve", "reject", "accept"}


def _state(page: Page, allowed: Mapping[str, str]) -> str:
    state = page.request.query_params.get("state", "")
    return state if state in allowed else ""


async def _leaves_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    current = page_number(page.request.query_params.get("page"), labels.LAST_PAGE)
    state = _state(page, labels.LEAVE_STATES)
    query = {"state": state} if state else {}
    found = await page.get("checkin", "/api/v1/leaves", params=paged(query, current, labels.PAGE_SIZE))
    return page.render(
        "checkin/leaves.html",
        {
            "when": labels.china_time,
            "rows": found["items"],
            "total": found["total"],
            "page": current,
            "size": labels.PAGE_SIZE,
            "state": state,
            "leave_states": labels.LEAVE_STATES,
            "done": page.request.query_params.get("done", ""),
            "problem": problem,
        },
        status_code=problem.status if problem else 200,
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
    params = page.request.query_params
    current = page_number(params.get("page"), labels.LAST_PAGE)
    query = {"active_on": params["active_on"]} if params.get("active_on") else {}
    found = await page.get("checkin", "/api/v1/internships", params=paged(query, current, labels.PAGE_SIZE))
    return page.render(
        "checkin/internships.html",
        {
            "when": labels.china_time,
            "rows": found["items"],
            "total": found["total"],
            "page": current,
            "size": labels.PAGE_SIZE,
            "active_on": params.get("active_on", ""),
        },
    )


async def _appeals_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    params = page.request.query_params
    queue = params.get("queue") == "1"
    state = _state(page, labels.APPEAL_STATES)
    query: dict[str, str] = {"state": state} if state else {}
    if queue:
        query["queue"] = "true"
    appeals = await page.get("checkin", "/api/v1/appeals", params={**query, "limit": 100})
    prompts = await page.get("checkin", "/api/v1/miss-prompts", params={"limit": 100})
    return page.render(
        "checkin/appeals.html",
        {
            "when": labels.china_time,
            "appeals": appeals,
            "prompts": prompts,
            "queue": queue,
            "state": state,
            "appeal_states": labels.APPEAL_STATES,
            "done": params.get("done", ""),
            "problem": problem,
        },
        status_code=problem.status if problem else 200,
    )


@people_router.get("/checkin/appeals")
async def appeals(page: StaffPage) -> HTMLResponse:
    return await _appeals_page(page)


@people_router.post("/checkin/appeals/{appeal_id}/decision")
async def decide_appeal(
    page: StaffPage, appeal_id: UUID, decision: Annotated[str, Form()], opinion: Annotated[str, Form()] = ""
) -> Response:
    try:
        await page.post(
            "checkin",
            f"/api/v1/appeals/{appeal_id}/decision",
            json={"decision": decision, "opinion": opinion.strip()},
        )
    except UpstreamProblem as problem:
        return await _appeals_page(page, problem)
    return RedirectResponse(
        f"/checkin/appeals?done={decision if decision in DECISIONS else ''}", status_code=303
    )
