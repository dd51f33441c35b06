"""学籍注册统计 of a round per school, class, major, grade, city or county: a chart and a table
of the same numbers, every number linking to the exact list behind it, and the workbook."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages import checkin_labels as labels
from services.console.web import BUREAU_ROLES, Page, StaffPage
from shared.auth import Role

statistics_router = APIRouter(include_in_schema=False)


def _by(page: Page) -> str:
    """The grouping asked for in the URL; a bureau starts per school, a school per class."""
    by = page.request.query_params.get("by", "")
    if by in labels.GROUPS:
        return by
    return "school" if page.viewer.principal.role in BUREAU_ROLES else "class"


async def _round_id(page: Page, rounds: list[dict[str, Any]]) -> str | None:
    chosen = page.request.query_params.get("round", "")
    try:
        return str(UUID(chosen))
    except ValueError:
        # Without a choice: the latest open round, else the latest closed one (a scheduled round
        # has nothing to count yet); the service lists the newest first.
        for state in ("open", "closed", "scheduled"):
            for row in rounds:
                if row["state"] == state:
                    return str(row["id"])
        return None


@statistics_router.get("/checkin/statistics")
async def statistics(page: StaffPage) -> HTMLResponse:
    rounds = await page.get("checkin", "/api/v1/rounds", params={"limit": 200})
    round_id = await _round_id(page, rounds)
    by = _by(page)
    filters = labels.list_filters(page.request.query_params, labels.STATISTICS_FILTERS, page.scope)
    rows: list[dict[str, Any]] = []
    options: dict[str, Any] = {}
    if round_id is not None:
        stats = await page.get(
            "checkin", f"/api/v1/rounds/{round_id}/statistics", params={**filters, "by": by}
        )
        rows = labels.statistics_rows(round_id, by, stats, filters, page._)
        options = labels.chart_options(rows, page._)
    workbook = page.request.url.include_query_params(round=round_id or "", by=by)
    return page.render(
        "checkin/statistics.html",
        {
            "when": labels.china_time,
            "rounds": rounds,
            "round_id": round_id,
            "by": by,
            "groups": labels.GROUPS,
            "rows": rows,
            "options": options,
            "xlsx_href": f"/checkin/statistics.xlsx?{workbook.query}",
            # checkin gives the workbook to bureaus and schools, not to counselors.
            "may_export": page.viewer.principal.role is not Role.COUNSELOR,
            "filters": page.request.query_params,
            "api_filters": filters,
            "regions": page.viewer.principal.role in BUREAU_ROLES
            or any(name in filters for name in labels.REGION_FILTERS),
            "result_labels": labels.RESULT_LABELS,
            "study_forms": labels.STUDY_FORMS,
        },
    )


@statistics_router.get("/checkin/statistics.xlsx")
async def statistics_workbook(page: StaffPage) -> Response:
    try:
        round_id = UUID(page.request.query_params.get("round", ""))
    except ValueError:
        return RedirectResponse("/checkin/statistics", status_code=303)
    filters = labels.list_filters(page.request.query_params, labels.STATISTICS_FILTERS, page.scope)
    answer = await page.call(
        "checkin", "GET", f"/api/v1/rounds/{round_id}/statistics.xlsx", params={**filters, "by": _by(page)}
    )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
