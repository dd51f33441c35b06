"""学籍注册 (issue 9): the import template, a class's workbook uploaded and registered in the
background (a progress fragment polled until done), the per-row problems and the failed-rows
workbook to fix and upload again; and single entry of one student.

Enrollment decides everything (who may import, which rows fail and why); the console shows its
answers. A double click on 导入 starts one job: the button is disabled on the first click and
htmx drops a second submission while the first is in flight, and enrollment itself treats the
same file for the same class as the same import (its idempotency: ``duplicate_upload``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.console.pages.registration_forms import (
    FORM_FIELDS,
    class_in_scope,
    form_values,
    percent_done,
    student_body,
    unplaced_errors,
    with_form_fields,
)
from services.console.upstream import FieldReason, UpstreamProblem
from services.console.web import Page, StaffPage
from shared.auth import SCHOOL_ROLES, Role

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORTS = "/api/v1/registrations/imports"
ID_TYPES = ("resident_id", "hk_macao_taiwan", "passport")
UPLOAD_FIELDS = ("class_id", "file")


async def _classes(page: Page) -> list[dict[str, Any]]:
    """The school's classes for the class choice; bureaus have none to choose (they only read)."""
    principal = page.viewer.principal
    if principal.role not in SCHOOL_ROLES:
        return []
    classes: list[dict[str, Any]] = await page.get("enrollment", f"/api/v1/schools/{principal.org}/classes")
    return classes


def _class_names(classes: list[dict[str, Any]]) -> dict[str, str]:
    return {c["id"]: c["name"] for c in classes}


def _may_register(page: Page) -> bool:
    # Only offered to the school's registrar; the service refuses anyone else anyway.
    return page.viewer.principal.role == Role.SCHOOL_REGISTRAR


@router.get("/registration")
async def registration_home(page: StaffPage) -> HTMLResponse:
    classes = await _classes(page)
    chosen = class_in_scope(page.scope)
    params: dict[str, Any] = {"limit": 50}
    if chosen:
        params["class_id"] = chosen
    imports = (await page.get("enrollment", IMPORTS, params=params))["items"]
    return page.render(
        "registration/index.html",
        {
            "classes": classes,
            "class_names": _class_names(classes),
            "chosen_class": chosen or "",
            "imports": imports,
            "may_register": _may_register(page),
            "may_download": page.viewer.principal.role in SCHOOL_ROLES,
            "id_types": ID_TYPES,
        },
    )


@router.get("/registration/template")
async def template(page: StaffPage, id_type: str = "resident_id") -> Response:
    upstream = await page.call(
        "enrollment", "GET", "/api/v1/registrations/template", params={"id_type": id_type}
    )
    return _xlsx(upstream.content, upstream.headers.get("content-disposition"), f"template-{id_type}.xlsx")


def _xlsx(content: bytes, disposition: str | None, fallback: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": disposition or f'attachment; filename="{fallback}"'},
    )


def _upload_problem() -> UpstreamProblem:
    return UpstreamProblem(
        422,
        "Invalid field",
        "数据校验未通过",
        errors=[FieldReason("file", "choose the filled workbook (.xlsx)", "请选择填好的工作簿（.xlsx）")],
    )


@router.post("/registration/imports")
async def upload(request: Request, page: StaffPage) -> Response:
    form = await request.form()
    class_id = str(form.get("class_id") or "")
    fixed_class = str(form.get("fixed_class") or "") == "1"
    file = form.get("file")
    problem: UpstreamProblem | None = None
    accepted: dict[str, Any] | None = None
    if not isinstance(file, UploadFile) or not file.filename:
        problem = _upload_problem()
    else:
        content = await file.read()
        try:
            response = await page.call(
                "enrollment",
                "POST",
                IMPORTS,
                data={"class_id": class_id},
                files={"file": (file.filename, content, XLSX)},
            )
            accepted = response.json()
        except UpstreamProblem as exc:
            if exc.status >= 500:
                raise
            problem = with_form_fields(exc)
    if accepted is None:
        classes = [] if fixed_class else await _classes(page)
        context = {
            "earlier_import": await _earlier_import(page, class_id, problem),
            "classes": classes,
            "chosen_class": class_id,
            "fixed_class": fixed_class,
            "problem": problem,
            "other_errors": unplaced_errors(problem, UPLOAD_FIELDS),
        }
        status = problem.status if problem else 422
        if page.is_htmx:
            return page.render("registration/_upload_form.html", context, status_code=status)
        return page.render(
            "registration/upload_page.html", {**context, "may_register": True}, status_code=status
        )
    where = f"/registration/imports/{accepted['id']}"
    if accepted.get("duplicate_upload"):
        where += "?duplicate=1"
    if page.is_htmx:
        # A whole page load, not a swap: the frame (language switch, Back) then names the import.
        return Response(status_code=204, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


async def _earlier_import(page: Page, class_id: str, problem: UpstreamProblem | None) -> str | None:
    """A class is imported once: when enrollment says so, the way to that import (its failed rows
    are what to fix and upload)."""
    if problem is None or problem.status != 409 or not class_id:
        return None
    found = (await page.get("enrollment", IMPORTS, params={"class_id": class_id, "limit": 200}))["items"]
    first = [job for job in found if job["kind"] == "class"]
    return str(first[0]["id"]) if first else None


async def _progress_fragment(page: Page, progress: dict[str, Any]) -> HTMLResponse:
    return page.render("registration/_progress.html", await _progress_context(page, progress, False))


async def _progress_context(page: Page, progress: dict[str, Any], duplicate: bool) -> dict[str, Any]:
    report: dict[str, Any] | None = None
    class_name = progress["class_id"]
    polled = page.is_htmx and progress["status"] != "done"
    if not polled:  # not on every second's poll: the name and report once, when shown for good
        class_name = _class_names(await _classes(page)).get(class_name, class_name)
    if progress["status"] == "done":
        report = await page.get("enrollment", f"{IMPORTS}/{progress['id']}/report")
    return {
        "job": progress,
        "class_name": class_name,
        "percent": percent_done(progress),
        "report": report,
        "duplicate": duplicate,
        "may_register": _may_register(page),
    }


@router.get("/registration/imports/{import_id}")
async def import_page(import_id: str, page: StaffPage, duplicate: bool = False) -> HTMLResponse:
    progress = await page.get("enrollment", f"{IMPORTS}/{import_id}")
    return page.render("registration/import.html", await _progress_context(page, progress, duplicate))


@router.get("/registration/imports/{import_id}/progress")
async def import_progress(import_id: str, page: StaffPage) -> HTMLResponse:
    progress = await page.get("enrollment", f"{IMPORTS}/{import_id}")
    return await _progress_fragment(page, progress)


@router.get("/registration/imports/{import_id}/failed-rows.xlsx")
async def failed_rows(import_id: str, page: StaffPage) -> Response:
    upstream = await page.call("enrollment", "GET", f"{IMPORTS}/{import_id}/failed-rows.xlsx")
    return _xlsx(
        upstream.content, upstream.headers.get("content-disposition"), f"failed-rows-{import_id}.xlsx"
    )


# --- single entry (单个新增) -------------------------------------------------------------------


def _options(classes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["id"], c["name"]) for c in classes]


def _fresh_form(class_id: str) -> dict[str, str]:
    return form_values({"class_id": class_id, "id_type": "resident_id"})


@router.get("/registration/new")
async def new_student(page: StaffPage) -> HTMLResponse:
    classes = await _classes(page)
    values = _fresh_form(class_in_scope(page.scope) or "")
    return page.render(
        "registration/new.html",
        {
            "class_options": _options(classes),
            "values": values,
            "problem": None,
            "other_errors": [],
            "created": None,
            "may_register": _may_register(page),
        },
    )


@router.post("/registration/new")
async def register_student(request: Request, page: StaffPage) -> HTMLResponse:
    values = form_values(await request.form())
    problem: UpstreamProblem | None = None
    created: dict[str, Any] | None = None
    try:
        created = await page.post("enrollment", "/api/v1/students", json=student_body(values))
    except UpstreamProblem as exc:
        if exc.status >= 500:
            raise
        problem = with_form_fields(exc)
    context = {
        "class_options": _options(await _classes(page)),
        # After a registration the form is empty again for the next student of the same class.
        "values": values if created is None else _fresh_form(values["class_id"]),
        "problem": problem,
        "other_errors": unplaced_errors(problem, FORM_FIELDS),
        "created": created,
        "may_register": True,
    }
    status = problem.status if problem else 200
    template = "registration/_student_form.html" if page.is_htmx else "registration/new.html"
    return page.render(template, context, status_code=status)
