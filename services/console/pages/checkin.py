"""Check-in (在籍核验): the rounds the caller sees and may publish, and one round's lists
(已完成名单 / 未完成名单 / 应核验名单) with their filters in the URL and their export under dual post.

The check-in service decides everything: which rounds and students the caller sees, whether
the caller may publish a round for a scope. A refusal comes back as the service's problem,
shown on the page next to the form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.pages.checkin_appeals import appeals_router
from services.console.pages.checkin_exports import exports_router
from services.console.pages.checkin_people import people_router
from services.console.pages.checkin_statistics import statistics_router
from services.console.paging import page_number, paged
from services.console.upstream import UpstreamProblem
from services.console.web import BUREAU_ROLES, Page, StaffPage
from shared.auth import Role

router = APIRouter(include_in_schema=False)
router.include_router(statistics_router)
router.include_router(exports_router)
router.include_router(people_router)
router.include_router(appeals_router)

# checkin's PUBLISHERS (api/rounds.py): the province sets registration rounds too.
PUBLISHERS = frozenset({Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR})


def label_context() -> dict[str, Any]:
    return {
        "result_labels": labels.RESULT_LABELS,
        "result_choices": labels.RESULT_CHOICES,
        "state_labels": labels.ROUND_STATES,
        "kind_labels": labels.ROUND_KINDS,
        "level_labels": labels.SCOPE_LEVELS,
        "study_forms": labels.STUDY_FORMS,
        "list_kinds": labels.LIST_KINDS,
    }


async def _rounds_page(page: Page, problem: UpstreamProblem | None = None, form: Any = None) -> HTMLResponse:
    params = page.request.query_params
    query = {name: params[name] for name in ("state", "kind") if params.get(name)}
    rounds = await page.get("checkin", "/api/v1/rounds", params={**query, "limit": 200})
    return page.render(
        "checkin/rounds.html",
        {
            "when": labels.china_time,
            **label_context(),
            "rounds": rounds,
            "filters": params,
            "may_publish": page.viewer.principal.role in PUBLISHERS,
            "is_province": page.viewer.principal.role is Role.PROVINCE,
            "problem": problem,
            "form": form or {},
        },
        status_code=problem.status if problem else 200,
    )


@router.get("/checkin")
async def rounds(page: StaffPage) -> HTMLResponse:
    return await _rounds_page(page)


def _instant(local: str) -> str:
    """A ``datetime-local`` value (China time, as the screen shows it) with its zone."""
    return datetime.fromisoformat(local).isoformat() + "+08:00" if local else ""


def _grades(raw: str) -> list[int]:
    return [int(part) for part in raw.replace("，", ",").split(",") if part.strip().isdigit()]


@router.post("/checkin/rounds")
async def publish_round(
    page: StaffPage,
    name: Annotated[str, Form()],
    starts_at: Annotated[str, Form()],
    ends_at: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "verification",
    grades: Annotated[str, Form()] = "",
    scope_code: Annotated[str, Form()] = "",
) -> Response:
    body: dict[str, Any] = {
        "name": name.strip(),
        "starts_at": _instant(starts_at),
        "ends_at": _instant(ends_at),
        "grades": _grades(grades),
    }
    if kind == "registration":
        start = datetime.fromisoformat(starts_at) if starts_at else datetime.now()
        body["year"] = start.year
        body["season"] = "spring" if 2 <= start.month <= 7 else "autumn"
        path = "/api/v1/rounds/registration"
    else:
        if scope_code.strip():
            body["scope_code"] = scope_code.strip()
        path = "/api/v1/rounds"
    try:
        created = await page.post("checkin", path, json=body)
    except UpstreamProblem as problem:
        form = {
            "name": name,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "grades": grades,
            "scope_code": scope_code,
        }
        return await _rounds_page(page, problem, form)
    return RedirectResponse(f"/checkin?created={created['id']}", status_code=303)


async def _list_page(page: Page, round_id: UUID, kind: str) -> HTMLResponse:
    params = page.request.query_params
    names = labels.COMPLETED_FILTERS if kind == "completed_list" else labels.STUDENT_FILTERS
    query = labels.list_filters(params, names, page.scope)
    current = page_number(params.get("page"), labels.LAST_PAGE)
    the_round = await page.get("checkin", f"/api/v1/rounds/{round_id}")
    found = await page.get(
        "checkin",
        f"/api/v1/rounds/{round_id}/{labels.LIST_PATHS[kind]}",
        params=paged(query, current, labels.PAGE_SIZE),
    )
    return page.render(
        "checkin/list.html",
        {
            "when": labels.china_time,
            **label_context(),
            "round": the_round,
            "kind": kind,
            "rows": found["items"],
            "total": found["total"],
            "page": current,
            "size": labels.PAGE_SIZE,
            "filters": params,
            "api_filters": query,
            # A bureau narrows to a city or county (a statistics group's list); a school has no use for it.
            "regions": page.viewer.principal.role in BUREAU_ROLES
            or any(name in query for name in labels.REGION_FILTERS),
            "may_export": page.viewer.principal.role
            in {Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE},
        },
    )


@router.get("/checkin/rounds/{round_id}/completed")
async def completed_list(page: StaffPage, round_id: UUID) -> HTMLResponse:
    return await _list_page(page, round_id, "completed_list")


@router.get("/checkin/rounds/{round_id}/incomplete")
async def incomplete_list(page: StaffPage, round_id: UUID) -> HTMLResponse:
    return await _list_page(page, round_id, "incomplete_list")


@router.get("/checkin/rounds/{round_id}/eligible")
async def eligible_list(page: StaffPage, round_id: UUID) -> HTMLResponse:
    return await _list_page(page, round_id, "eligible_list")
