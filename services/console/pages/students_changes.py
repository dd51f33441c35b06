"""Changes the school registrar starts from a student's record, each with its reason and an
evidence file (seed 004 art. 17–19): a status change (学籍异动), optionally answering a pending
action (待办) — the page then says what the action asks for — and a key-data change (关键数据变更:
name or ID). Enrollment checks the change and opens its review; the console uploads the file
first and passes the service's field reasons back to the form, with what was typed kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.console.pages import students_query as q
from services.console.upstream import FieldReason, UpstreamProblem
from services.console.web import ID_SEGMENT, Page, PathId, StaffPage, finished

changes_router = APIRouter(include_in_schema=False)

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024  # enrollment's limit for an evidence file


def change_body(form: Mapping[str, str], evidence_id: str, optional: tuple[str, ...]) -> dict[str, Any]:
    """The service's body from the form: the reason, the evidence, and the ``optional`` fields
    that were filled in — an empty one is left out, so the service names a field only when it
    was given wrong or is missing for the change asked."""
    body: dict[str, Any] = {"reason": form.get("reason", "").strip(), "evidence_ids": [evidence_id]}
    body.update({name: form[name] for name in optional if form.get(name)})
    return body


async def _submit(
    page: Page, path: str, form: Mapping[str, str], optional: tuple[str, ...], evidence: UploadFile | None
) -> None:
    """Upload the evidence, then send the change; raises the service's problem."""
    if evidence is None or not evidence.filename:
        raise UpstreamProblem(
            422,
            "Invalid field",
            "数据校验未通过",
            errors=[FieldReason("file", "an evidence file is required", "请上传证明材料")],
        )
    content = await evidence.read(MAX_EVIDENCE_BYTES + 1)  # enrollment refuses what is larger
    media_type = evidence.content_type or "application/octet-stream"
    uploaded = await page.call(
        "enrollment", "POST", "/api/v1/evidence", files={"file": (evidence.filename, content, media_type)}
    )
    await page.post("enrollment", path, json=change_body(form, str(uploaded.json()["id"]), optional))


# --- 学籍异动 ----------------------------------------------------------------------------------

STATUS_FIELDS = ("type", "new_class_id", "new_major_code", "new_study_form", "pending_action_id")


async def _status_change_page(
    page: Page, student_id: str, form: Mapping[str, str], problem: UpstreamProblem | None = None
) -> HTMLResponse:
    student = await page.get("enrollment", f"/api/v1/students/{student_id}")
    classes = await page.get("enrollment", f"/api/v1/schools/{student['lineage']['school']}/classes")
    majors = await page.get("enrollment", "/api/v1/majors")
    action = None
    action_id = form.get("pending_action_id", "")
    if re.match(ID_SEGMENT, action_id):  # a posted value goes into the API's path: one segment only
        action = await page.get("enrollment", f"/api/v1/pending-actions/{action_id}")
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
async def status_change_form(page: StaffPage, student_id: PathId) -> HTMLResponse:
    params = page.request.query_params
    form: dict[str, str] = {}
    action = params.get("action", "")
    if re.match(ID_SEGMENT, action):
        form["pending_action_id"] = action
    if params.get("type") in q.CHANGE_TYPE_LABELS:
        form["type"] = params["type"]
    return await _status_change_page(page, student_id, form)


@changes_router.post("/students/{student_id}/status-change")
async def start_status_change(
    page: StaffPage,
    student_id: PathId,
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
    path = f"/api/v1/students/{student_id}/status-changes"
    try:
        await _submit(page, path, form, STATUS_FIELDS, evidence)
    except UpstreamProblem as problem:
        return await _status_change_page(page, student_id, form, problem)
    return finished(page, f"/students/{student_id}?done=status_change")


# --- 关键数据变更 --------------------------------------------------------------------------------

KEY_DATA_FIELDS = ("name", "id_type", "id_number")


async def _key_data_page(
    page: Page, student_id: str, form: Mapping[str, str], problem: UpstreamProblem | None = None
) -> HTMLResponse:
    student = await page.get("enrollment", f"/api/v1/students/{student_id}")
    return page.render(
        "students/key_data_change.html",
        {"s": student, "q": q, "form": form, "problem": problem},
        status_code=problem.status if problem else 200,
    )


@changes_router.get("/students/{student_id}/key-data-change")
async def key_data_form(page: StaffPage, student_id: PathId) -> HTMLResponse:
    return await _key_data_page(page, student_id, {})


@changes_router.post("/students/{student_id}/key-data-change")
async def start_key_data_change(
    page: StaffPage,
    student_id: PathId,
    name: Annotated[str, Form(max_length=100)] = "",
    id_type: Annotated[str, Form(max_length=40)] = "",
    id_number: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    evidence: UploadFile | None = None,
) -> Response:
    form = {"name": name.strip(), "id_type": id_type, "id_number": id_number.strip(), "reason": reason}
    path = f"/api/v1/students/{student_id}/key-data-changes"
    try:
        await _submit(page, path, form, KEY_DATA_FIELDS, evidence)
    except UpstreamProblem as problem:
        return await _key_data_page(page, student_id, form, problem)
    return finished(page, f"/students/{student_id}?done=key_data_change")
