"""问题学籍 decided by a bureau (seed 002): one case with its steps, and the decision it waits for —
the county's confirmation (or return) of a failed identity check the school gave evidence for,
or the common superior's arbitration (仲裁) of a duplicate ID both schools evidenced — and the
school's own side when it is its turn: 佐证 (evidence, effective at once), 变更 (the corrected ID
number) or 删除, each with an evidence file; a change or delete goes to review first.

Enrollment decides who may act (the school whose turn it is; the county of the school; the arbiter
named on the case), which choices the state allows and whether the case still waits; the page
offers the form for the case's state and shows the service's refusal in place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.console.i18n import marked as _
from services.console.upstream import UpstreamProblem
from services.console.web import BUREAU_ROLES, Page, PathId, StaffPage, finished
from shared.auth import Role

router = APIRouter(include_in_schema=False)
RecordId = PathId
EvidenceId = PathId
# Enrollment keeps evidence as JPG or PNG only; anything else is offered as a plain download.
EVIDENCE_SUFFIX = {"image/jpeg": "jpg", "image/png": "png"}
MAX_EVIDENCE_BYTES = 2 * 1024 * 1024  # enrollment's limit for an evidence file (JPG or PNG)

KIND_LABELS = {"duplicate_id": _("身份证件号重复"), "identity_check_failed": _("身份核验未通过")}
STATE_LABELS = {
    "open": _("待学校处理"),
    "awaiting_second": _("待另一方学校处理"),
    "awaiting_arbitration": _("待上级仲裁"),
    # "first" is the side registered later: it acts first (enrollment's problem_record_state).
    "first_must_fix": _("仲裁后待后注册一方修正"),
    "second_must_fix": _("仲裁后待先注册一方修正"),
    "awaiting_confirmation": _("待区县确认"),
    "resolved": _("已解决"),
}
MOVE_LABELS = {
    "change": _("变更"),
    "evidence": _("佐证"),
    "delete": _("删除"),
    "arbitrate": _("仲裁"),
    "confirm_identity": _("确认身份"),
    "reject_identity": _("退回学校"),
}
DONE_MESSAGES = {
    "confirmed": _("已确认，学生将获得正式学籍号"),
    "returned": _("已退回学校"),
    "arbitrated": _("已仲裁"),
    "evidenced": _("佐证材料已提交"),
    "submitted": _("已提交审核，审核通过后生效"),
}

Decision = Literal["confirmation", "arbitration", "school"]


def decision_waiting(case: dict[str, Any], role: str) -> Decision | None:
    """The form the case's state asks of this caller: the school's side on its turn (not while a
    change or delete of it is under review), a bureau's decision; enrollment still checks that
    this is the school or bureau (the school's county, the arbiter named on the case)."""
    if role == Role.SCHOOL_REGISTRAR:
        return "school" if case.get("your_turn") and not case.get("pending_review_id") else None
    if role not in BUREAU_ROLES:  # a StrEnum: the principal's role string is found
        return None
    if case["state"] == "awaiting_confirmation" and role == Role.COUNTY:
        return "confirmation"
    if case["state"] == "awaiting_arbitration" and role == case.get("arbiter_level"):
        return "arbitration"
    return None


async def _show(
    page: Page, record_id: str, *, problem: UpstreamProblem | None = None, opinion: str = ""
) -> HTMLResponse:
    case: dict[str, Any] = await page.get("enrollment", f"/api/v1/problem-records/{record_id}")
    done = DONE_MESSAGES.get(page.request.query_params.get("done", ""))
    return page.render(
        "reviews/problem_record.html",
        {
            "case": case,
            "kinds": KIND_LABELS,
            "states": STATE_LABELS,
            "moves": MOVE_LABELS,
            "decision": decision_waiting(case, page.viewer.principal.role),
            "problem": problem,
            "opinion": opinion,
            "done": done,
        },
        status_code=problem.status if problem else 200,
    )


@router.get("/reviews/problem-records/{record_id}")
async def problem_record(page: StaffPage, record_id: RecordId) -> HTMLResponse:
    return await _show(page, record_id)


@router.get("/reviews/problem-records/{record_id}/evidence/{evidence_id}")
async def evidence_file(page: StaffPage, record_id: RecordId, evidence_id: EvidenceId) -> Response:
    """A step's evidence file, as enrollment gives it to this user (and logs the read)."""
    answer = await page.call(
        "enrollment", "GET", f"/api/v1/problem-records/{record_id}/evidence/{evidence_id}"
    )
    kind = answer.headers.get("content-type", "application/octet-stream")
    suffix = EVIDENCE_SUFFIX.get(kind, "bin")
    return Response(
        answer.content,
        media_type=kind if kind in EVIDENCE_SUFFIX else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{evidence_id}.{suffix}"',
            "Cache-Control": "no-store",  # a child's documents stay off shared caches
        },
    )


# Refusals shown on the case page: not this unit's decision, not the case's state, bad input.
REFUSALS_SHOWN = (403, 409, 413, 422)


async def _send(
    page: Page, record_id: str, what: str, *, opinion: str, done: str, **request: Any
) -> Response:
    """One decision or answer sent to enrollment: the case page again with its refusal, or the
    case page with what was done."""
    try:
        answer = await page.call(
            "enrollment", "POST", f"/api/v1/problem-records/{record_id}/{what}", **request
        )
    except UpstreamProblem as problem:
        if problem.status not in REFUSALS_SHOWN:
            raise
        return await _show(page, record_id, problem=problem, opinion=opinion)
    # A school's change or delete is only submitted: enrollment answers 202 until it is reviewed.
    done = "submitted" if answer.status_code == 202 else done
    return finished(page, f"/reviews/problem-records/{record_id}?done={done}")


@router.post("/reviews/problem-records/{record_id}/confirmation")
async def confirm_identity(
    page: StaffPage,
    record_id: RecordId,
    accept: Annotated[Literal["yes", "no"], Form()],
    opinion: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    body = {"accept": accept == "yes", "opinion": opinion.strip()}
    done = "confirmed" if accept == "yes" else "returned"
    return await _send(page, record_id, "identity-confirmation", opinion=opinion, done=done, json=body)


@router.post("/reviews/problem-records/{record_id}/arbitration")
async def arbitrate(
    page: StaffPage,
    record_id: RecordId,
    winner: Annotated[Literal["this", "counterpart"], Form()],
    opinion: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    body = {"winner": winner, "opinion": opinion.strip()}
    return await _send(page, record_id, "arbitration", opinion=opinion, done="arbitrated", json=body)


@router.post("/reviews/problem-records/{record_id}/actions")
async def act_for_the_school(
    page: StaffPage,
    record_id: RecordId,
    choice: Annotated[Literal["evidence", "change", "delete"], Form()],
    evidence: UploadFile | None = None,
    note: Annotated[str, Form(max_length=500)] = "",
    new_id_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    data = {"choice": choice, "note": note.strip()}
    if new_id_number.strip():
        data["new_id_number"] = new_id_number.strip()
    files = None
    if evidence is not None and evidence.filename:
        content = await evidence.read(MAX_EVIDENCE_BYTES + 1)  # enrollment refuses what is larger
        files = {
            "evidence": (evidence.filename, content, evidence.content_type or "application/octet-stream")
        }
    return await _send(page, record_id, "actions", opinion=note, done="evidenced", data=data, files=files)
