"""The separate face consent (/m/consent), with the counselor's in-person check for a student
who declines, and the face capture (/m/face) whose refusal carries the service's quality reason.

The capture page posts the photo from static/mobile-face.js (camera frame or the file input);
this route forwards it to identity as it came and answers JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from services.console.mobile.answers import problem_json
from services.console.upstream import UpstreamProblem
from services.console.web import StudentPage

router = APIRouter(include_in_schema=False)
PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_PHOTO_BYTES = 5 * 1024 * 1024


@router.get("/m/consent")
async def consent_page(page: StudentPage) -> HTMLResponse:
    return page.render("mobile/consent.html", {"declined": page.request.query_params.get("declined") == "1"})


@router.post("/m/consent")
async def decide(page: StudentPage, decision: Annotated[Literal["granted", "declined"], Form()]) -> Response:
    try:
        await page.call("identity", "PUT", "/api/v1/me/face-consent", json={"decision": decision})
    except UpstreamProblem as problem:
        return page.render(
            "mobile/consent.html", {"declined": False, "problem": problem}, status_code=problem.status
        )
    return RedirectResponse("/m/face" if decision == "granted" else "/m/consent?declined=1", status_code=303)


@router.get("/m/face")
async def face_page(page: StudentPage) -> HTMLResponse:
    return page.render("mobile/face.html")


@router.post("/m/face")
async def capture(page: StudentPage, photo: Annotated[UploadFile, File()]) -> JSONResponse:
    media_type = photo.content_type if photo.content_type in PHOTO_TYPES else "image/jpeg"
    data = await photo.read(MAX_PHOTO_BYTES + 1)
    try:
        response = await page.call(
            "identity", "POST", "/api/v1/me/face", files={"photo": ("face.jpg", data, media_type)}
        )
    except UpstreamProblem as problem:
        return problem_json(page.request, problem)
    captured = response.json()
    return JSONResponse({"photo_version": captured["photo_version"], "next": "/m/checkin"})
