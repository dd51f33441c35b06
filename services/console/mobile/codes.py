"""The graduate's certificates on the phone page (/m/certificates) and their verification codes
(查验码): make one for a certificate with a chosen validity, see them with their expiry, revoke one,
and open the public verification page (/verify?code=…) with it. A graduate who lost the paper
certificate reports it here and applies for a 学历证明书 (seed 004 art. 19); the page shows the
application's state and the decider's opinion, and the 学历证明书 once issued.

The certificates service owns the codes and decides everything (whose certificate, whether it is
still valid, how many days are allowed); the page only passes what was typed on and shows the
service's refusal next to the certificate it was about.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages.certificates_common import REQUEST_STATE_LABELS
from services.console.upstream import UpstreamProblem
from services.console.web import Page, StudentPage
from shared.china_time import CHINA

router = APIRouter(include_in_schema=False)

# The service allows 1..90 days (services/certificates/domain/verification_code.py); the form
# proposes a month, long enough for one job application round.
DEFAULT_VALID_DAYS = 30
MAX_CODE = 40


def clean_code(text: str) -> str:
    """A code as the service stores it: letters and digits only (people copy it with hyphens)."""
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())[:MAX_CODE]


def days_sent(typed: str) -> int | str:
    """The validity as the service's body wants it; what is not a number goes as typed, so the
    service's own refusal (422 on ``valid_days``) is what the graduate reads."""
    text = typed.strip()
    return int(text) if text.isascii() and text.isdigit() else text


def code_state(code: dict[str, Any]) -> str:
    """live / revoked / expired: revoked wins, since it was the graduate's own decision."""
    if code.get("revoked"):
        return "revoked"
    return "live" if code.get("live") else "expired"


def china_time(moment: str) -> str:
    """An ISO timestamp from the service as a graduate in China reads it."""
    return datetime.fromisoformat(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def codes_by_certificate(codes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The codes under the certificate each was made for, live ones first, newest first within
    (the service answers newest first; the sort is stable)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code in codes:
        grouped[str(code["certificate_id"])].append(code)
    return {
        certificate: sorted(listed, key=lambda c: code_state(c) != "live")
        for certificate, listed in grouped.items()
    }


async def _my_certificates(page: Page) -> list[dict[str, Any]]:
    try:
        found: dict[str, Any] = await page.get("certificates", "/api/v1/my/certificates")
    except UpstreamProblem as problem:
        if problem.status != 404:
            raise
        return []
    items: list[dict[str, Any]] = found["items"]
    return items


def latest_request_by_certificate(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each certificate's newest 学历证明书 application (a rejected one may be followed by another)."""
    latest: dict[str, dict[str, Any]] = {}
    for request in sorted(requests, key=lambda r: str(r["created_at"])):
        latest[str(request["certificate_id"])] = request
    return latest


async def _show(
    page: Page,
    *,
    problem: UpstreamProblem | None = None,
    about: str = "",
    made: dict[str, Any] | None = None,
    revoked: str = "",
    typed_days: str = "",
    applied: bool = False,
    typed_statement: str = "",
) -> HTMLResponse:
    certificates = await _my_certificates(page)
    codes: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    codes_problem: UpstreamProblem | None = None
    if certificates:
        try:  # the certificates stay readable without their codes and applications
            codes = await page.get("certificates", "/api/v1/my/verification-codes")
            found = await page.get("certificates", "/api/v1/education-certificate-requests")
            requests = found["items"]
        except UpstreamProblem as refused:
            codes_problem = refused
    for code in [*codes, *([made] if made else [])]:
        code["state"] = code_state(code)
        code["expires_local"] = china_time(code["expires_at"])
    # The notice names the revoked code as the list shows it (grouped), when the list still has it.
    revoked_shown = next((c["code_grouped"] for c in codes if c["code"] == revoked), revoked)
    return page.render(
        "mobile/certificates.html",
        {
            "certificates": certificates,
            "codes": codes_by_certificate(codes),
            "codes_problem": codes_problem,
            "problem": problem,
            "about": about,
            "made": made,
            "revoked": revoked_shown,
            "typed_days": typed_days or str(DEFAULT_VALID_DAYS),
            "requests": latest_request_by_certificate(requests),
            "request_states": REQUEST_STATE_LABELS,
            "applied": applied,
            "typed_statement": typed_statement,
        },
        status_code=problem.status if problem is not None else 200,
    )


def _done(page: Page, answer: HTMLResponse) -> Response:
    # Without htmx a reload must not repeat the POST: back to the list (the notice is htmx's).
    return answer if page.is_htmx else RedirectResponse("/m/certificates", status_code=303)


@router.get("/m/certificates")
async def certificates(page: StudentPage) -> HTMLResponse:
    return await _show(page)


@router.post("/m/certificates/codes")
async def make_code(
    page: StudentPage,
    certificate_id: Annotated[str, Form(max_length=40)],
    valid_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    body = {"certificate_id": certificate_id, "valid_days": days_sent(valid_days)}
    try:
        made: dict[str, Any] = await page.post("certificates", "/api/v1/my/verification-codes", json=body)
    except UpstreamProblem as problem:
        return await _show(page, problem=problem, about=certificate_id, typed_days=valid_days)
    return _done(page, await _show(page, made=made, about=certificate_id))


@router.post("/m/certificates/codes/{code}/revoke")
async def revoke_code(
    page: StudentPage, code: str, certificate_id: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    try:
        await page.call("certificates", "DELETE", f"/api/v1/my/verification-codes/{clean_code(code)}")
    except UpstreamProblem as problem:
        return await _show(page, problem=problem, about=certificate_id)
    return _done(page, await _show(page, revoked=clean_code(code), about=certificate_id))


@router.post("/m/certificates/lost")
async def apply_for_education_certificate(
    page: StudentPage,
    certificate_id: Annotated[str, Form(max_length=40)],
    statement: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """挂失 and apply: the school's registrar or the county bureau decides on the console."""
    body = {"certificate_id": certificate_id, "statement": statement}
    try:
        await page.post("certificates", "/api/v1/education-certificate-requests", json=body)
    except UpstreamProblem as problem:
        return await _show(page, problem=problem, about=certificate_id, typed_statement=statement)
    return _done(page, await _show(page, applied=True, about=certificate_id))
