"""The student's own requests: leave (/m/leave) and appeals against missed rounds (/m/appeals).
Plain forms (no script needed): post, then back to the list with the outcome."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages.checkin_labels import MISS_RULES
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StudentPage

router = APIRouter(include_in_schema=False)


async def _leave_page(
    page: Page, problem: UpstreamProblem | None = None, status_code: int = 200
) -> HTMLResponse:
    leaves: dict[str, Any] = await page.get("checkin", "/api/v1/leaves")
    context = {"leaves": leaves["items"], "problem": problem, "sent": page.request.query_params.get("sent")}
    return page.render("mobile/leave.html", context, status_code=status_code)


@router.get("/m/leave")
async def leave(page: StudentPage) -> HTMLResponse:
    return await _leave_page(page)


@router.post("/m/leave")
async def ask_leave(
    page: StudentPage,
    starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()],
    reason: Annotated[str, Form(min_length=2, max_length=500)],
) -> Response:
    body = {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "reason": reason}
    try:
        await page.post("checkin", "/api/v1/leaves", json=body)
    except UpstreamProblem as problem:
        return await _leave_page(page, problem, problem.status)
    return RedirectResponse("/m/leave?sent=1", status_code=303)


def missed_rounds(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rounds the student missed and that are not excused: what an appeal can be about."""
    return [r for r in rounds if (r.get("mine") or {}).get("missed") and not r["mine"].get("excused")]


async def _appeals_page(
    page: Page, problem: UpstreamProblem | None = None, status_code: int = 200
) -> HTMLResponse:
    appeals = await page.get("checkin", "/api/v1/appeals", params={"limit": 50})
    prompts = await page.get("checkin", "/api/v1/miss-prompts", params={"state": "open", "limit": 50})
    rounds: list[dict[str, Any]] = await page.get("checkin", "/api/v1/rounds", params={"state": "closed"})
    context = {
        "appeals": appeals["items"],
        "prompts": prompts["items"],
        "rules": MISS_RULES,
        "missed": missed_rounds(rounds),
        "problem": problem,
        "sent": page.request.query_params.get("sent"),
    }
    return page.render("mobile/appeals.html", context, status_code=status_code)


@router.get("/m/appeals")
async def appeals(page: StudentPage) -> HTMLResponse:
    return await _appeals_page(page)


@router.post("/m/appeals")
async def lodge(
    page: StudentPage,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    round_ids: Annotated[list[str] | None, Form(max_length=50)] = None,
    prompt_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """An appeal against a prompt (its misses) or against missed rounds ticked one by one; the
    service names what is missing when neither is given."""
    body: dict[str, Any] = {"reason": reason}
    if prompt_id:
        body["prompt_id"] = prompt_id
    elif round_ids:
        body["round_ids"] = round_ids
    try:
        await page.post("checkin", "/api/v1/appeals", json=body)
    except UpstreamProblem as problem:
        return await _appeals_page(page, problem, problem.status)
    return RedirectResponse("/m/appeals?sent=1", status_code=303)
