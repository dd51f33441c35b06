"""The pre-graduate list (预毕业生): a school's candidates of a graduating year, each with the
reasons certificates gives for not being ready yet (not filed, no enrolment qualification, an open
problem record…), and the registrar's graduation list made from the ready ones.

The certificates service decides readiness and visibility; this page shows its answer and sends
the ticked students back to it. The other certificate screens live in ``certificates_*.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.console.i18n import marked as _
from services.console.pages import certificates_common as common
from services.console.paging import page_number, paged
from services.console.web import StaffPage, finished

router = APIRouter(include_in_schema=False)


@router.get("/certificates")
async def pre_graduates(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    principal = page.viewer.principal
    school = common.school_of(principal, page.scope, params.get("school"))
    year = common.year_of(params.get("year"), date.today())
    current = page_number(params.get("page"))
    found: dict[str, Any] | None = None
    schools: list[dict[str, Any]] = []
    if school is None:
        # A bureau chooses a school first: the ones it sees under the tree's selection.
        listed = await page.get("enrollment", "/api/v1/schools", params={"limit": 500})
        schools = common.schools_in_region(listed, page.scope.split("/", 1)[0])
    else:
        found = await page.get(
            "certificates",
            "/api/v1/pre-graduates",
            params=paged({"school_code": school, "year": year}, current, common.PAGE_SIZE),
        )
    return page.render(
        "certificates/pregraduates.html",
        {
            **common.labels(),
            "school": school,
            "typed_school": params.get("school", ""),
            "year": year,
            "found": found,
            "schools": schools,
            "page": current,
            "size": common.PAGE_SIZE,
            "may_submit": principal.role in common.LIST_SUBMITTERS,
            "school_fixed": school == principal.org,
        },
    )


@router.post("/certificates/lists")
async def submit_list(page: StaffPage) -> Response:
    """The ticked students as a new graduation list; the service checks each of them again."""
    form = await page.request.form()
    students = [str(v) for v in form.getlist("student_id")]
    outcomes = {str(k): str(v) for k, v in form.items() if str(k).startswith("outcome-")}
    year = common.year_of(str(form.get("year", "")), date.today())
    entries = common.list_entries(students, outcomes)
    if not entries:
        return page.render(
            "certificates/_message.html",
            {"error": page._(_("请至少勾选一名学生"))},
            status_code=422,
        )
    created = await page.post(
        "certificates", "/api/v1/graduation-lists", json={"graduating_year": year, "entries": entries}
    )
    return finished(page, f"/certificates/lists/{created['id']}?done=submitted")
