"""Graduation lists (毕业名单): the lists in the caller's jurisdiction and the ones waiting at the
caller's level, one list with its students and its reviews; approve or return it with an opinion
at the caller's step, issue an approved list (the province), and roll back one graduation with a
reason after a confirmation naming the student (a bureau).

The certificates service holds the chain and checks every step; the page offers an action only
where the caller's role could take it, and shows the service's reason when it refuses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.console.i18n import marked as _
from services.console.pages import certificates_common as common
from services.console.paging import page_number, paged
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StaffPage, finished

router = APIRouter(include_in_schema=False)

DONE_MESSAGES = {
    "submitted": _("毕业名单已提交审核"),
    "approve": _("已同意，名单进入下一级审核"),
    "return": _("已退回，学校可重新提交名单"),
    "issued": _("证书已发放"),
    "rolled_back": _("已回退该生的毕业，证书已作废"),
}


def message(page: Page, text: str, status_code: int = 422) -> HTMLResponse:
    return page.render("certificates/_message.html", {"error": page._(text)}, status_code=status_code)


@router.get("/certificates/lists")
async def graduation_lists(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    current = page_number(params.get("page"))
    mine = params.get("mine") == "1"
    filters = common.list_filters(params, page.scope)
    reviews_level = common.DECIDER_LEVEL.get(page.viewer.principal.role)
    # Only a role that decides at some level has a queue; for others "mine" is the plain list.
    mine = mine and reviews_level is not None
    if mine:
        found = await page.get(
            "certificates", "/api/v1/graduation-reviews", params=paged({}, current, common.PAGE_SIZE)
        )
    else:
        found = await page.get("certificates", "/api/v1/graduation-lists", params=filters.query(current))
    return page.render(
        "certificates/lists.html",
        {
            **common.labels(),
            "found": found,
            "filters": filters,
            "mine": mine,
            "page": current,
            "size": common.PAGE_SIZE,
            "reviews_level": reviews_level,
        },
    )


async def _detail(page: Page, list_id: str) -> dict[str, Any]:
    detail: dict[str, Any] = await page.get("certificates", f"/api/v1/graduation-lists/{list_id}")
    return detail


@router.get("/certificates/lists/{list_id}")
async def graduation_list(list_id: str, page: StaffPage) -> HTMLResponse:
    detail = await _detail(page, list_id)
    role = page.viewer.principal.role
    done = page.request.query_params.get("done", "")
    return page.render(
        "certificates/list.html",
        {
            **common.labels(),
            "gl": detail,
            "may_decide": detail["pending_level"] is not None
            and common.DECIDER_LEVEL.get(role) == detail["pending_level"],
            "may_issue": detail["state"] == "approved" and role in common.LIST_ISSUERS,
            "may_roll_back": role in common.ROLLBACK_ROLES,
            "done": DONE_MESSAGES.get(done),
        },
    )


@router.post("/certificates/lists/{list_id}/decision")
async def decide(
    list_id: str,
    page: StaffPage,
    decision: Annotated[str, Form()],
    opinion: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if decision not in common.DECISION_LABELS:
        return message(page, _("请选择同意或退回"))
    if decision == "return" and not opinion.strip():
        return message(page, _("退回须填写意见"))
    await page.post(
        "certificates",
        f"/api/v1/graduation-lists/{list_id}/decision",
        json={"decision": decision, "opinion": opinion.strip()},
    )
    return finished(page, f"/certificates/lists/{list_id}?done={decision}")


@router.post("/certificates/lists/{list_id}/issue")
async def issue(list_id: str, page: StaffPage) -> Response:
    await page.post("certificates", f"/api/v1/graduation-lists/{list_id}/issue")
    return finished(page, f"/certificates/lists/{list_id}?done=issued")


async def _entry(page: Page, list_id: str, student_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The list and the student's entry on it; a student not on the list is a 404 page."""
    detail = await _detail(page, list_id)
    for entry in detail["students"]:
        if entry["student_id"] == student_id:
            return detail, entry
    raise UpstreamProblem(404, "Not on this list", "该学生不在此毕业名单中")


@router.get("/certificates/lists/{list_id}/rollback/{student_id}")
async def rollback_form(list_id: str, student_id: str, page: StaffPage) -> HTMLResponse:
    """The confirmation before a graduation is rolled back: it names the student and the
    certificate that will be voided, and asks for the reason."""
    detail, entry = await _entry(page, list_id, student_id)
    certificate = None
    if entry["certificate_id"]:
        certificate = await page.get("certificates", f"/api/v1/certificates/{entry['certificate_id']}")
    return page.render(
        "certificates/rollback.html",
        {**common.labels(), "gl": detail, "entry": entry, "certificate": certificate},
    )


@router.post("/certificates/lists/{list_id}/rollback/{student_id}")
async def roll_back(
    list_id: str,
    student_id: str,
    page: StaffPage,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not reason.strip():
        return message(page, _("请填写回退原因"))
    await _entry(page, list_id, student_id)
    await page.post(
        "certificates", f"/api/v1/graduations/{student_id}/rollback", json={"reason": reason.strip()}
    )
    return finished(page, f"/certificates/lists/{list_id}?done=rolled_back")
