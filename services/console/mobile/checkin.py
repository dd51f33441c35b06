"""Check-in on the phone (/m/checkin): the open rounds that call the student, the round's
server nonce, the signed check-in, and its result with reasons.

The browser signs (static/mobile-checkin.js, with the device key from IndexedDB); the console
forwards the signed payload, the signature and the selfie untouched — it could not alter them
without breaking the signature — and renders the result fragment in the reader's language."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, File, Form, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from services.console.mobile.answers import problem_json
from services.console.upstream import UpstreamProblem
from services.console.web import StudentPage

router = APIRouter(include_in_schema=False)
SELFIE_MAX_BYTES = 2 * 1024 * 1024


def chosen_round(rounds: list[dict[str, Any]], wanted: str | None) -> dict[str, Any] | None:
    """The round asked for in the URL, else the first open one that still awaits the student."""
    if wanted:
        return next((r for r in rounds if str(r["id"]) == wanted), None)
    waiting = [r for r in rounds if (r.get("mine") or {}).get("result") not in ("normal", "internship")]
    candidates = waiting or rounds
    return candidates[0] if candidates else None


@router.get("/m/checkin")
async def checkin_page(page: StudentPage) -> HTMLResponse:
    rounds: list[dict[str, Any]] = await page.get("checkin", "/api/v1/rounds", params={"state": "open"})
    current = chosen_round(rounds, page.request.query_params.get("round"))
    return page.render("mobile/checkin.html", {"rounds": rounds, "current": current})


@router.post("/m/checkin/challenge")
async def challenge(page: StudentPage, round_id: Annotated[UUID, Body(embed=True)]) -> JSONResponse:
    try:
        nonce = await page.post("checkin", f"/api/v1/rounds/{round_id}/challenge")
    except UpstreamProblem as problem:
        return problem_json(page.request, problem)
    return JSONResponse({"nonce": nonce["nonce"]})


@router.post("/m/checkin")
async def submit(
    page: StudentPage,
    payload: Annotated[str, Form(max_length=4000)],
    signature: Annotated[str, Form(max_length=200)],
    selfie: Annotated[UploadFile, File()],
) -> JSONResponse:
    photo = await selfie.read(SELFIE_MAX_BYTES + 1)
    try:
        response = await page.call(
            "checkin",
            "POST",
            "/api/v1/check-ins",
            data={"payload": payload, "signature": signature},
            files={"selfie": ("selfie.jpg", photo, "image/jpeg")},
        )
    except UpstreamProblem as problem:
        return problem_json(page.request, problem)
    return JSONResponse({"check_in_id": response.json()["check_in_id"]})


@router.get("/m/checkin/result/{check_in_id}")
async def result(page: StudentPage, check_in_id: UUID) -> HTMLResponse:
    """The attempt as it stands: "awaiting the face check" until decided (the script asks again)."""
    attempt = await page.get("checkin", f"/api/v1/check-ins/{check_in_id}")
    round_: dict[str, Any] = await page.get("checkin", f"/api/v1/rounds/{attempt['round_id']}")
    may_retry = attempt["state"] == "decided" and not attempt["final"] and round_["state"] == "open"
    headers = {"X-Check-In-State": attempt["state"]}
    return page.render(
        "mobile/_checkin_result.html", {"attempt": attempt, "may_retry": may_retry}, headers=headers
    )
