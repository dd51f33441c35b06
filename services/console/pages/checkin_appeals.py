"""Miss prompts and appeals (未核验提醒与申诉, seed 001 四): the prompts raised by missed rounds,
which the school registrar handles — by appealing to the county bureau for the student when the
misses had a reason — and the appeals, which the level above the appellant accepts or rejects
with an opinion (the school a student's, the county bureau the school's). Both lists follow the
jurisdiction tree and keep their filters in the URL; the service decides who may do what."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.pages.checkin_paged import list_page, state_filter
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage
from shared.auth import Role

appeals_router = APIRouter(include_in_schema=False)
DECISIONS = {"accept", "reject"}


def _query(page: Page, states: Mapping[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The URL's state (one of ``states``) and name, as the form shows them, and the service's
    query: that state, the tree's scope and the name (the service's student filters)."""
    state = state_filter(page, states)
    query: dict[str, Any] = labels.scope_filters(page.scope)
    name = page.request.query_params.get("name", "").strip()
    if name:
        query["name"] = name
    if state:
        query["state"] = state
    return {"state": state, "name": page.request.query_params.get("name", "")}, query


async def _appeals_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    queue = page.request.query_params.get("queue") == "1"
    shown, query = _query(page, labels.APPEAL_STATES)
    if queue:
        query["queue"] = "true"
    context = {
        **shown,
        "queue": queue,
        "appeal_states": labels.APPEAL_STATES,
        "appellants": labels.APPELLANTS,
    }
    return await list_page(page, "/api/v1/appeals", query, "checkin/appeals.html", context, problem)


@appeals_router.get("/checkin/appeals")
async def appeals(page: StaffPage) -> HTMLResponse:
    return await _appeals_page(page)


@appeals_router.post("/checkin/appeals/{appeal_id}/decision")
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


async def _prompts_page(page: Page, problem: UpstreamProblem | None = None) -> HTMLResponse:
    shown, query = _query(page, labels.PROMPT_STATES)
    context = {
        **shown,
        "prompt_states": labels.PROMPT_STATES,
        "rules": labels.MISS_RULES,
        # Only the school registrar appeals for a student (checkin's appeal_decision.py).
        "may_appeal": page.viewer.principal.role == Role.SCHOOL_REGISTRAR,
    }
    return await list_page(page, "/api/v1/miss-prompts", query, "checkin/prompts.html", context, problem)


@appeals_router.get("/checkin/appeals/prompts")
async def prompts(page: StaffPage) -> HTMLResponse:
    return await _prompts_page(page)


@appeals_router.post("/checkin/appeals/prompts/{prompt_id}/appeal")
async def appeal_for_the_student(
    page: StaffPage,
    prompt_id: UUID,
    student_id: Annotated[str, Form(max_length=40)],
    reason: Annotated[str, Form()] = "",
) -> Response:
    body = {"student_id": student_id, "prompt_id": str(prompt_id), "reason": reason.strip()}
    try:
        await page.post("checkin", "/api/v1/appeals", json=body)
    except UpstreamProblem as problem:
        return await _prompts_page(page, problem)
    return RedirectResponse("/checkin/appeals?done=lodged", status_code=303)
