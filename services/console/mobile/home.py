"""The phone page's home (/m/: tiles), the student's own record and their certificates with the
verification code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.upstream import UpstreamProblem
from services.console.web import StudentPage

router = APIRouter(include_in_schema=False)


@router.get("/m/")
async def home(page: StudentPage) -> HTMLResponse:
    return page.render("mobile/home.html")


@router.get("/m/record")
async def record(page: StudentPage) -> HTMLResponse:
    student: dict[str, Any] = await page.get(
        "enrollment", f"/api/v1/students/{page.viewer.principal.student_id}"
    )
    return page.render("mobile/record.html", {"student": student})


@router.get("/m/certificates")
async def certificates(page: StudentPage) -> HTMLResponse:
    try:
        found: dict[str, Any] = await page.get("certificates", "/api/v1/my/certificates")
    except UpstreamProblem as problem:
        if problem.status != 404:
            raise
        found = {"items": [], "total": 0}
    return page.render("mobile/certificates.html", {"certificates": found["items"]})
