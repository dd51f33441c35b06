"""The phone page's home (/m/: tiles) and the student's own record (the certificates and their
verification codes are codes.py's)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.pages.students_query import STATUS_LABELS
from services.console.web import StudentPage

router = APIRouter(include_in_schema=False)


@router.get("/m/")
async def home(page: StudentPage) -> HTMLResponse:
    # Open miss prompts are shown on the home page: the student has days, not weeks, to appeal.
    prompts = await page.get("checkin", "/api/v1/miss-prompts", params={"state": "open", "limit": 1})
    return page.render("mobile/home.html", {"open_prompts": prompts["total"]})


@router.get("/m/record")
async def record(page: StudentPage) -> HTMLResponse:
    student: dict[str, Any] = await page.get(
        "enrollment", f"/api/v1/students/{page.viewer.principal.student_id}"
    )
    return page.render("mobile/record.html", {"student": student, "statuses": STATUS_LABELS})
