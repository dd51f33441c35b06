"""学历证明书 requests (seed 004 art. 19): graduates who lost their certificate apply on the phone
page; the school's registrar or the county bureau issues the 学历证明书 or rejects the
application with an opinion. The service checks the decider and the certificate again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.console.i18n import marked as _
from services.console.pages import certificates_common as common
from services.console.pages.certificates_lists import message
from services.console.web import StaffPage, finished

router = APIRouter(include_in_schema=False)

DONE_MESSAGES = {"issue": _("学历证明书已出具"), "reject": _("申请已驳回")}


@router.get("/certificates/requests")
async def requests(page: StaffPage) -> HTMLResponse:
    state = page.request.query_params.get("state") or ""
    params = {"state": state} if state in common.REQUEST_STATE_LABELS else {}
    found = await page.get("certificates", "/api/v1/education-certificate-requests", params=params)
    done = page.request.query_params.get("done", "")
    return page.render(
        "certificates/requests.html",
        {
            **common.labels(),
            "rows": found["items"],
            "state": params.get("state", ""),
            "may_decide": page.viewer.principal.role in common.REQUEST_DECIDERS,
            "done": DONE_MESSAGES.get(done),
        },
    )


@router.post("/certificates/requests/{request_id}/decision")
async def decide(
    request_id: str,
    page: StaffPage,
    decision: Annotated[str, Form()],
    opinion: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if decision not in DONE_MESSAGES:
        return message(page, _("请选择出具或驳回"))
    if decision == "reject" and not opinion.strip():
        return message(page, _("驳回须填写意见"))
    await page.post(
        "certificates",
        f"/api/v1/education-certificate-requests/{request_id}/decision",
        json={"decision": decision, "opinion": opinion.strip()},
    )
    return finished(page, f"/certificates/requests?done={decision}")
