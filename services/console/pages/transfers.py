"""Transfers (转学): the query (跨省转学查询), the caller's queue (待核办), one case with its
timeline across both provinces, and the reviewer's and applicant's actions on it.

The transfer service decides everything: what the caller sees, whether a step is theirs. The
page offers approve / reject where the case sits in the caller's own queue, and cancel to the
applying registrar; a refusal comes back as the service's problem, shown in place.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.i18n import marked as _
from services.console.pages import transfers_labels as labels
from services.console.pages.transfers_apply import apply_router
from services.console.pages.transfers_exports import exports_router
from services.console.paging import page_number, paged
from services.console.web import Page, StaffPage

router = APIRouter(include_in_schema=False)
# The fixed paths (/transfers/new, /transfers/exports…) before /transfers/{transfer_id}.
router.include_router(apply_router)
router.include_router(exports_router)

DONE_MESSAGES = {
    "applied": _("转学申请已提交"),
    "approve": _("已同意"),
    "reject": _("已驳回"),
    "cancel": _("已撤销"),
    "cancel_requested": _("已向转出省申请撤销，结果将显示在时间线上"),
}


def label_context() -> dict[str, Any]:
    return {
        "kind_labels": labels.KIND_LABELS,
        "state_labels": labels.STATE_LABELS,
        "province_filter_labels": labels.PROVINCE_FILTER_LABELS,
        "level_labels": labels.LEVEL_LABELS,
        "action_labels": labels.ACTION_LABELS,
        "role_labels": labels.ROLE_LABELS,
        "state_words": labels.state_words,
        "china_time": labels.china_time,
        "today": labels.china_today(),
    }


@router.get("/transfers")
async def transfer_query(page: StaffPage) -> HTMLResponse:
    params = page.request.query_params
    current = page_number(params.get("page"))
    query = labels.list_query(params, page.scope)
    found = await page.get("transfer", "/api/v1/transfers", params=paged(query, current, labels.PAGE_SIZE))
    return page.render(
        "transfers/list.html",
        {
            **label_context(),
            "rows": found["items"],
            "total": found.get("total") or 0,
            "page": current,
            "size": labels.PAGE_SIZE,
            "filters": params,
            "kinds": params.getlist("kind"),
            "states": params.getlist("state"),
            "export_query": str(page.request.url.query),
        },
    )


@router.get("/transfers/queue")
async def review_queue(page: StaffPage) -> HTMLResponse:
    found = await page.get("transfer", "/api/v1/transfers/queue")
    return page.render("transfers/queue.html", {**label_context(), "rows": found["items"]})


async def _case_context(page: Page, transfer_id: str) -> dict[str, Any]:
    case = await page.get("transfer", f"/api/v1/transfers/{transfer_id}")
    principal = page.viewer.principal
    mine = False
    if case["state"] == "UNDER_REVIEW" and principal.role.value != "counselor":
        queue = await page.get("transfer", "/api/v1/transfers/queue")
        mine = any(item["id"] == case["id"] for item in queue["items"])
    return {
        **label_context(),
        "case": case,
        "may_review": mine and not labels.waits_for_checks(case),
        "waits_for_checks": labels.waits_for_checks(case),
        "may_cancel": labels.may_cancel(case, principal.role.value, principal.org, principal.province),
        "refreshing": labels.still_moving(case),
        "cross_province": case["kind"] in labels.CROSS_PROVINCE_KINDS,
    }


@router.get("/transfers/{transfer_id}")
async def transfer_case(page: StaffPage, transfer_id: str) -> HTMLResponse:
    context = await _case_context(page, transfer_id)
    done = page.request.query_params.get("done", "")
    context["done"] = DONE_MESSAGES.get(done, "")
    if page.is_htmx and page.request.query_params.get("part") == "case":
        return page.render("transfers/_case.html", context)
    return page.render("transfers/case.html", context)


async def _act(page: Page, transfer_id: str, action: str, opinion: str) -> Response:
    response = await page.call(
        "transfer", "POST", f"/api/v1/transfers/{transfer_id}/{action}", json={"opinion": opinion}
    )
    done = "cancel_requested" if action == "cancel" and response.status_code == 202 else action
    target = f"/transfers/{transfer_id}?done={done}"
    if page.is_htmx:
        # htmx follows this with a full page load, so the timeline is read afresh.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/transfers/{transfer_id}/approve")
async def approve(page: StaffPage, transfer_id: str, opinion: Annotated[str, Form()] = "") -> Response:
    return await _act(page, transfer_id, "approve", opinion.strip())


@router.post("/transfers/{transfer_id}/reject")
async def reject(page: StaffPage, transfer_id: str, opinion: Annotated[str, Form()] = "") -> Response:
    # An empty opinion is refused by the service, whose reason shows next to the field.
    return await _act(page, transfer_id, "reject", opinion.strip())


@router.post("/transfers/{transfer_id}/cancel")
async def cancel(page: StaffPage, transfer_id: str, opinion: Annotated[str, Form()] = "") -> Response:
    return await _act(page, transfer_id, "cancel", opinion.strip())
