"""Applying for a transfer (转学申请).

Across provinces the destination school's registrar first looks the student up in the origin
province (姓名 + 学籍号 → 查询): the question travels to that province and its answer comes back
later, so the page polls for it (htmx, once a second) and then offers the application with the
student as the origin described them. Inside the province the origin school's registrar applies
with the student's handwritten request uploaded as evidence.

The full student number the registrar typed travels only in form bodies (never in a URL): the
service shows it masked everywhere else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages.transfers_labels import CROSS_PROVINCE_KINDS, KIND_LABELS
from services.console.upstream import UpstreamProblem
from services.console.web import StaffPage

apply_router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


@apply_router.get("/transfers/new")
async def new_transfer(page: StaffPage) -> HTMLResponse:
    kind = page.request.query_params.get("kind", "cross_province")
    if kind not in KIND_LABELS:
        kind = "cross_province"
    return page.render("transfers/new.html", {"kind": kind, "kind_labels": KIND_LABELS, "form": {}})


@apply_router.post("/transfers/lookups")
async def look_up(
    page: StaffPage, origin_province: Text = "", student_number: Text = "", student_name: Text = ""
) -> HTMLResponse:
    form = {
        "origin_province": origin_province.strip(),
        "student_number": student_number.strip(),
        "student_name": student_name.strip(),
    }
    context: dict[str, Any] = {"kind": "cross_province", "kind_labels": KIND_LABELS, "form": form}
    try:
        lookup = await page.post("transfer", "/api/v1/transfers/lookups", json=form)
    except UpstreamProblem as problem:
        if problem.status != 422:
            raise
        return page.render("transfers/new.html", {**context, "problem": problem}, status_code=422)
    return page.render("transfers/new.html", {**context, "lookup": lookup})


@apply_router.post("/transfers/lookups/{lookup_id}/answer")
async def lookup_answer(
    page: StaffPage,
    lookup_id: str,
    origin_province: Text = "",
    student_number: Text = "",
    student_name: Text = "",
) -> HTMLResponse:
    """The look-up's state as a fragment: still waiting (polls again), not found, or the
    student with the application form."""
    lookup = await page.get("transfer", f"/api/v1/transfers/lookups/{lookup_id}")
    form = {
        "origin_province": origin_province,
        "student_number": student_number,
        "student_name": student_name,
    }
    return page.render("transfers/_lookup.html", {"lookup": lookup, "form": form})


async def _upload(page: StaffPage, evidence: UploadFile) -> str:
    content = await evidence.read()
    response = await page.call(
        "transfer",
        "POST",
        "/api/v1/transfers/evidence",
        params={"filename": evidence.filename or "evidence"},
        content=content,  # the raw body, as the API takes it
        headers={"Content-Type": evidence.content_type or "application/octet-stream"},
    )
    return str(response.json()["evidence_id"])


def application_body(form: dict[str, str], evidence_ids: list[str]) -> dict[str, Any]:
    """The API's ApplyBody from the console's form: empty optional fields left out."""
    body: dict[str, Any] = {
        "kind": form["kind"],
        "student_number": form["student_number"],
        "student_name": form["student_name"],
        "grade": int(form["grade"]) if form["grade"].isdigit() else form["grade"],
        "reason": form["reason"],
    }
    if form["kind"] in CROSS_PROVINCE_KINDS:
        body["origin_province"] = form["origin_province"]
    else:
        body["destination_school"] = form["destination_school"]
        body["evidence_ids"] = evidence_ids
    if form["destination_class_id"]:
        body["destination_class_id"] = form["destination_class_id"]
    return body


@apply_router.post("/transfers")
async def apply(
    page: StaffPage,
    kind: Text = "cross_province",
    student_number: Text = "",
    student_name: Text = "",
    origin_province: Text = "",
    destination_school: Text = "",
    destination_class_id: Text = "",
    grade: Text = "",
    reason: Text = "",
    evidence: UploadFile | None = None,
) -> Response:
    form = {
        "kind": kind if kind in KIND_LABELS else "cross_province",
        "student_number": student_number.strip(),
        "student_name": student_name.strip(),
        "origin_province": origin_province.strip(),
        "destination_school": destination_school.strip(),
        "destination_class_id": destination_class_id.strip(),
        "grade": grade.strip(),
        "reason": reason.strip(),
    }
    try:
        evidence_ids = [await _upload(page, evidence)] if evidence is not None and evidence.filename else []
        case = await page.post("transfer", "/api/v1/transfers", json=application_body(form, evidence_ids))
    except UpstreamProblem as problem:
        if problem.status not in (409, 413, 422):
            raise
        context = {"kind": form["kind"], "kind_labels": KIND_LABELS, "form": form, "problem": problem}
        return page.render("transfers/new.html", context, status_code=problem.status)
    return RedirectResponse(f"/transfers/{case['id']}?done=applied", status_code=303)


@apply_router.get("/transfers/evidence/{evidence_id}")
async def evidence_file(page: StaffPage, evidence_id: str) -> Response:
    """A file cited on a timeline, fetched with the viewer's token (the service decides)."""
    answer = await page.call("transfer", "GET", f"/api/v1/transfers/evidence/{evidence_id}")
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
