"""学生账号管理: each student's account state and face capture, per-class statistics, and the
export of exactly the filtered list. Identity filters by the caller's jurisdiction; the filters
live in the URL (a GET form), so Back, reload and bookmarks keep them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.console.pages.accounts_filters import PAGE_SIZE, AccountFilters, filters_from, rate
from services.console.paging import page_number, paged
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage

router = APIRouter(include_in_schema=False)
MAX_SCHOOLS_NAMED = 20  # class names are fetched per school: enough for a county's page


async def _names(page: Page, statistics: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """School and class names for the codes identity returns (enrollment owns the names); a
    name that cannot be had is shown as its code."""
    schools: dict[str, str] = {}
    classes: dict[str, str] = {}
    codes = sorted({row["school_code"] for row in statistics if row.get("school_code")})
    try:
        for school in await page.get("enrollment", "/api/v1/schools", params={"limit": 500}):
            schools[school["code"]] = school["name"]
        for code in codes[:MAX_SCHOOLS_NAMED]:
            for klass in await page.get("enrollment", f"/api/v1/schools/{code}/classes"):
                classes[klass["id"]] = klass["name"]
    except UpstreamProblem:
        return schools, classes  # names are a courtesy: the codes still show without them
    return schools, classes


async def _class_options(page: Page, filters: AccountFilters) -> list[tuple[str, str]]:
    """The classes of the chosen school, or of the viewer's own school (a school account)."""
    org = str(page.viewer.principal.org)
    school = filters.school_code or (org if len(org) == 10 and org.isdigit() else None)
    if not school:
        return []
    try:
        found = await page.get("enrollment", f"/api/v1/schools/{school}/classes")
    except UpstreamProblem:
        return []
    return [(klass["id"], klass["name"]) for klass in found]


@router.get("/accounts")
async def accounts(page: StaffPage) -> HTMLResponse:
    query = page.request.query_params
    filters = filters_from(query, page.scope)
    params = filters.identity_params()
    number = page_number(query.get("page"))
    statistics: list[dict[str, Any]] = await page.get(
        "identity", "/api/v1/student-accounts/statistics", params=params
    )
    rows: list[dict[str, Any]] = await page.get(
        "identity",
        "/api/v1/student-accounts",
        params=paged(params, number, PAGE_SIZE),
    )
    total = sum(int(row["students"]) for row in statistics)
    totals = {
        key: sum(int(row[key]) for row in statistics)
        for key in ("students", "activated", "face_captured", "face_declined", "possible_proxies")
    }
    schools, classes = await _names(page, statistics)
    return page.render(
        "accounts/list.html",
        {
            "filters": filters,
            "statistics": statistics,
            "totals": totals,
            "rows": rows,
            "total": total,
            "page": number,
            "size": PAGE_SIZE,
            "schools": schools,
            "classes": classes,
            "class_options": await _class_options(page, filters),
            "export_query": page.request.url.remove_query_params("page").query,
            "rate": rate,
            # A formal number is "G" + the ID number: shown masked like the ID (identity
            # returns it whole).
        },
    )


@router.get("/accounts/export.xlsx")
async def export(page: StaffPage) -> Response:
    """Identity's workbook of exactly the filters on the page."""
    filters = filters_from(page.request.query_params, page.scope)
    answer = await page.call(
        "identity", "GET", "/api/v1/student-accounts/export.xlsx", params=filters.identity_params()
    )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": 'attachment; filename="student-accounts.xlsx"'},
    )
