"""The public certificate verification page (证书查验): anyone, without signing in, types a
certificate's number and the holder's name, pastes the text of its QR code, or enters a
graduate's verification code, and reads the certificates service's answer ("该证书真实有效。"…),
masked by the service.

No session here: the service's public endpoints are called without a token, and the browser's
address is forwarded so the service's per-client limit counts this visitor, not the console.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from services.console.i18n import marked as _
from services.console.pages.certificates_common import OUTCOME_LABELS
from services.console.upstream import Upstream, UpstreamProblem
from services.console.web import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"graduation": _("毕业证书"), "education_certificate": _("学历证明书")}
# What a verifier may type is bounded like the service's own fields.
MAX_NUMBER = 60
MAX_NAME = 100
MAX_PAYLOAD = 1500
MAX_CODE = 40


async def _ask(
    request: Request, method: str, path: str, body: dict[str, str] | None = None
) -> dict[str, Any]:
    upstream: Upstream = request.app.state.upstream
    response = await upstream.request(
        "certificates",
        method,
        path,
        token=None,
        json=body,
        client_address=request.client.host if request.client else None,
    )
    answer: dict[str, Any] = response.json()
    return answer


async def _show(
    request: Request,
    ask: tuple[str, str, dict[str, str] | None] | None,
    typed: dict[str, str],
    mode: str,
) -> HTMLResponse:
    answer: dict[str, Any] | None = None
    problem: UpstreamProblem | None = None
    if ask is not None:
        try:
            answer = await _ask(request, *ask)
        except UpstreamProblem as refused:  # too many tries (429), a malformed field (422)
            problem = refused
    headers = {"Cache-Control": "no-store"}
    if problem is not None and problem.retry_after:
        headers["Retry-After"] = problem.retry_after
    return render(
        request,
        "verify/verify.html",
        {
            "answer": answer,
            "problem": problem,
            "typed": typed,
            "mode": mode,
            "kind_labels": KIND_LABELS,
            "outcome_labels": OUTCOME_LABELS,
        },
        status_code=problem.status if problem is not None else 200,
        headers=headers,
    )


@router.get("/verify")
async def verify_page(request: Request) -> HTMLResponse:
    code = "".join(ch for ch in request.query_params.get("code", "") if ch.isascii() and ch.isalnum())[
        :MAX_CODE
    ]
    if code:
        return await _show(
            request, ("GET", f"/api/v1/public/verification-codes/{code}", None), {"code": code}, "code"
        )
    return await _show(request, None, {}, "number")


@router.post("/verify")
async def verify(
    request: Request,
    mode: Annotated[str, Form()] = "number",
    number: Annotated[str, Form(max_length=MAX_NUMBER)] = "",
    name: Annotated[str, Form(max_length=MAX_NAME)] = "",
    payload: Annotated[str, Form(max_length=MAX_PAYLOAD)] = "",
    code: Annotated[str, Form(max_length=MAX_CODE)] = "",
) -> HTMLResponse:
    if mode == "qr":
        return await _show(
            request,
            ("POST", "/api/v1/public/qr-verifications", {"payload": payload.strip()}),
            {"payload": payload},
            "qr",
        )
    if mode == "code":
        typed_code = "".join(ch for ch in code if ch.isascii() and ch.isalnum())
        return await _show(
            request,
            ("GET", f"/api/v1/public/verification-codes/{typed_code}", None) if typed_code else None,
            {"code": code},
            "code",
        )
    return await _show(
        request,
        ("POST", "/api/v1/public/verifications", {"number": number.strip(), "name": name.strip()}),
        {"number": number, "name": name},
        "number",
    )


@router.get("/C/{payload}")
@router.get("/c/{payload}")
async def scanned(payload: str, request: Request) -> HTMLResponse:
    """Where a certificate's QR lands when it names this site: the scanned URL is verified."""
    text = payload[:MAX_PAYLOAD]
    return await _show(
        request, ("POST", "/api/v1/public/qr-verifications", {"payload": text}), {"payload": text}, "qr"
    )
