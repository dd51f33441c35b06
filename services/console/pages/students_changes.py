"""学籍异动 from a student's record: the school registrar starts a status change with its reason
and an evidence file (seed 004 art. 17–19), optionally answering a pending action (待办) — the
page then says what the action asks for. Enrollment checks the change (the transition, the class
and major, the graduating year) and opens its review; the console uploads the file first and
passes the service's field reasons back to the form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.console.pages import students_query as q
from services.console.upstream import FieldReason, UpstreamProblem
from services.console.web import Page, StaffPage, finished

changes_router = APIRouter(include_in_schema=False)

STUDENT_ID = r"^[0-9A-Za-z-]{1,40}$"
ACTION_ID = r"^[0-9A-Za-z-]{1,40}$"
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024  # enrollment's limit for a status change's evidence


async def _form_page(
    page: Page,
    student_id: str,
    form: dict[str, str],
    problem: UpstreamProblem | None = None,
) -> HTMLResponse:
    student = await page.get("enrollment", f"/api/v1/students/{student_id}")
    school = student["lineage"]["school"]
    classes = await page.get("enrollment", f"/api/v1/schools/{school}/classes")
    majors = await page.get("enrollment", "/api/v1/majors")
    action = None
    if form.get("pending_action_id"):
        action = await page.get("enrollment", f"/api/v1/pending-actions/{form['pending_action_id']}")
    return page.render(
        "students/status_change.html",
        {
            "s": student,
            "q": q,
            "form": form,
            "action": action,
            "classes": [(c["id"], c["name"]) for c in classes],
            "majors": [(m["code"], f"{m['code']} {m['name']}") for m in majors],
            "problem": problem,
        },
        status_code=problem.status if problem else 200,
    )


@changes_router.get("/students/{student_id}/status-change")
async def status_change_form(
    page: StaffPage, student_id: Annotated[str, Path(pattern=STUDENT_ID)]
) -> HTMLResponse:
    action = page.request.query_params.get("action", "")
    form = {"pending_action_id": action} if action and len(action) <= 40 and action.isascii() else {}
    if page.request.query_params.get("type") in q.CHANGE_TYPE_LABELS:
        form["type"] = page.request.query_params["type"]
    return await _form_page(page, student_id, form)


def change_body(form: dict[str, str], evidence_id: str) -> dict[str, Any]:
    """The service's body from the form: empty optional fields are left out, so the service
    names a field only when it was given wrong or is missing for the kind."""
    body: dict[str, Any] = {
        "type": form.get("type", ""),
        "reason": form.get("reason", "").strip(),
        "evidence_ids": [evidence_id],
    }
    for name in ("new_class_id", "new_major_code", "new_study_form", "pending_action_id"):
        if form.get(name):
            body[name] = form[name]
    return body


@changes_router.post("/students/{student_id}/status-change")
async def start_status_change(
    page: StaffPage,
    student_id: Annotated[str, Path(pattern=STUDENT_ID)],
    type: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    new_class_id: Annotated[str, Form(max_length=40)] = "",
    new_major_code: Annotated[str, Form(max_length=20)] = "",
    new_study_form: Annotated[str, Form(max_length=20)] = "",
    pending_action_id: Annotated[str, Form(max_length=40)] = "",
    evidence: UploadFile | None = None,
) -> Response:
    form = {
        "type": type,
        "reason": reason,
        "new_class_id": new_class_id,
        "new_major_code": new_major_code,
        "new_study_form": new_study_form,
        "pending_action_id": pending_action_id,
    }
    if evidence is None or not evidence.filename:
        missing = UpstreamProblem(
            422,
            "Invalid field",
            "数据校验未通过",
            errors=[FieldReason("file", "an evidence file is required", "请上传证明材料")],
        )
        return await _form_page(page, student_id, form, missing)
    content = await evidence.read(MAX_EVIDENCE_BYTES + 1)  # enrollment refuses what is larger
    try:
        uploaded = await page.call(
            "enrollment",
            "POST",
            "/api/v1/evidence",
            files={"file": (evidence.filename, content, evidence.content_type or "application/octet-stream")},
        )
        body = change_body(form, str(uploaded.json()["id"]))
        await page.post("enrollment", f"/api/v1/students/{student_id}/status-changes", json=body)
    except UpstreamProblem as problem:
        return await _form_page(page, student_id, form, problem)
    return finished(page, f"/students/{student_id}?done=status_change")
