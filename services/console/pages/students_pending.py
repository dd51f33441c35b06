"""待办事项: what check-in's reports ask of a school (seed 001 四.1: two missed rounds in a row or
four in a term; leave past its limit), each due in 5 working days, overdue ones flagged for the
bureaus above. The registrar answers one by starting the status change it asks for from the
student's record (students_changes.py); an accepted appeal withdraws it. Included before the
record's route so that ``/students/pending`` is not read as a student id."""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.pages import students_query as q
from services.console.pages.checkin_labels import scope_filters
from services.console.paging import page_number, paged
from services.console.web import ID_SEGMENT, StaffPage
from shared.auth import Role

pending_router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LAST_PAGE = 2000  # enrollment refuses offsets above 100 000
# What each kind asks for: the status change the registrar starts from the record.
ANSWER_OF = {"miss_threshold": "", "suspension_proposed": "suspend"}


def pending_query(params: Mapping[str, str], scope: str) -> dict[str, str]:
    """The URL's filters as enrollment's query: open actions unless told otherwise, 全部 (an empty
    state) as ``all``, the tree's region or school (actions are not kept per class), and one
    student's actions when a miss prompt links here."""
    state = params.get("state", "open")
    query = {key: value for key, value in scope_filters(scope).items() if key != "class_id"}
    query["state"] = "all" if state == "" else state if state in q.PENDING_STATE_LABELS else "open"
    if params.get("kind") in q.PENDING_KIND_LABELS:
        query["kind"] = params["kind"]
    if params.get("overdue") == "1":
        query["overdue"] = "true"
    if re.match(ID_SEGMENT, params.get("student", "")):
        query["student_id"] = params["student"]
    return query


@pending_router.get("/students/pending")
async def pending_actions(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    current = page_number(params.get("page"), LAST_PAGE)
    query = pending_query(params, page.scope)
    found = await page.get("enrollment", "/api/v1/pending-actions", params=paged(query, current, PAGE_SIZE))
    return page.render(
        "students/pending.html",
        {
            "rows": found["items"],
            "total": found["total"],
            "page": current,
            "size": PAGE_SIZE,
            "state": "" if query["state"] == "all" else query["state"],
            "kind": query.get("kind", ""),
            "overdue": "overdue" in query,
            "student": query.get("student_id", ""),
            "q": q,
            "answer_of": ANSWER_OF,
            "may_answer": page.viewer.principal.role == Role.SCHOOL_REGISTRAR,
        },
    )
