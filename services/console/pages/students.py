"""学生: the student list (filters and page in the URL, scoped by the tree) and one record with
its history. Exports of the list go through students_exports (双岗), included first here so that
``/students/exports`` is not read as a student id."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.pages import students_query as q
from services.console.pages.students_changes import changes_router
from services.console.pages.students_exports import EXPORT_ROLES, exports_router
from services.console.pages.students_pending import pending_router
from services.console.paging import offset, page_number
from services.console.upstream import UpstreamProblem
from services.console.web import Page, PathId, StaffPage
from shared.auth import Role

router = APIRouter(include_in_schema=False)
router.include_router(exports_router)
router.include_router(pending_router)
router.include_router(changes_router)

GRADE_YEARS = 7  # entry years offered in the grade filter when no school is chosen


async def _optional(page: Page, path: str, params: dict[str, Any] | None = None) -> Any:
    """A lookup for the filter form's options: a role that may not list them gets none, and the
    list still shows (the service decides what the role sees)."""
    try:
        return await page.get("enrollment", path, params=params)
    except UpstreamProblem as problem:
        if problem.status >= 500:
            raise
        return []


async def _search(page: Page, filters: dict[str, str], offset: int, limit: int) -> tuple[int, list[Any]]:
    found = await page.get(
        "enrollment", "/api/v1/students/search", params={**filters, "limit": limit, "offset": offset}
    )
    return int(found["total"]), list(found["items"])


async def _form_options(page: Page, school: str) -> dict[str, Any]:
    majors = await _optional(page, "/api/v1/majors")
    classes: list[Any] = []
    grades: list[int] = []
    if school:
        # Every class of the school, whatever the grade: a chosen class stays selectable (and
        # shown as chosen) when the grade filter changes.
        classes = await _optional(page, f"/api/v1/schools/{school}/classes")
        grades = list(await _optional(page, f"/api/v1/schools/{school}/grades"))
    if not grades:
        this_year = date.today().year
        grades = list(range(this_year, this_year - GRADE_YEARS, -1))
    return {
        "majors": [(m["code"], f"{m['code']} {m['name']}") for m in majors],
        "classes": [(c["id"], c["name"]) for c in classes],
        "grades": [(str(g), str(g)) for g in grades],
    }


@router.get("/students")
async def student_list(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    filters = q.form_filters(params)
    scope = q.Scope.parse(page.scope)
    number = page_number(params.get("page"), q.MAX_PAGE)
    visible = list(await _optional(page, "/api/v1/schools", {"limit": 500}))
    schools = sorted(str(s["code"]) for s in visible)

    scoped = q.scoped_filters(filters, scope)
    # The list and its export are one filter: the scope is in it (a region as ``region``).
    total, rows = (
        await _search(page, scoped, offset(number, q.PAGE_SIZE), q.PAGE_SIZE)
        if scoped is not None
        else (0, [])
    )
    in_region = q.schools_in_region(visible, scope.region) if scope.region else schools

    # A registrar's only school needs no choosing before its classes are offered.
    chosen_school = (scoped or {}).get("school", "") or (schools[0] if len(schools) == 1 else "")
    options = await _form_options(page, chosen_school)
    school_choices = [
        (str(s["code"]), str(s["name"]))
        for s in visible
        if str(s["code"]) in in_region and (not scope.school or s["code"] == scope.school)
    ]
    role = page.viewer.principal.role
    return page.render(
        "students/list.html",
        {
            "filters": filters,
            "rows": rows,
            "total": total,
            "page": number,
            "size": q.PAGE_SIZE,
            "options": options,
            "schools": school_choices,
            "may_export": role in EXPORT_ROLES,
            "export_query": q.export_query(scoped) if scoped is not None else None,
            "q": q,
        },
    )


@router.get("/students/{student_id}")
async def student_record(page: StaffPage, student_id: PathId) -> HTMLResponse:
    # The service answers 404 for a student outside the viewer's jurisdiction; the console
    # shows that answer (error.html), never anything of the record.
    record = await page.get("enrollment", f"/api/v1/students/{student_id}")
    history = sorted(record.get("history", []), key=lambda line: str(line["at"]), reverse=True)
    context = {
        "s": record,
        "history": history,
        "q": q,
        # Only the school's registrar starts a status change (enrollment's rule).
        "may_change": page.viewer.principal.role == Role.SCHOOL_REGISTRAR,
        "done": page.request.query_params.get("done", ""),
    }
    return page.render("students/record.html", context)
