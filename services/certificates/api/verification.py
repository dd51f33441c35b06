"""Public verification (issue 8 §6) and a graduate's verification codes.

Anonymous, rate-limited per client:
- ``POST /api/v1/public/verifications`` {number, name}
- ``POST /api/v1/public/qr-verifications`` {payload}: the scanned URL or its base32
- ``GET /api/v1/public/verification-codes/{code}``
- ``GET /verify`` (the page), ``POST /verify`` (its forms), ``GET /C/{payload}`` (where a
  certificate's QR lands; ``/c/`` too: the QR's URL is upper case, a person may type lower).

Every answer is ``200`` with a ``state`` (valid, voided, lost, unknown, mistyped, expired,
refused): the answer is the resource asked for, whatever it says, and the page renders every
state the same way. An expired or revoked code answers ``expired`` rather than ``410``, since an
unknown code (``unknown``, not ``404``) must not be told apart from a guessed one by status
alone either. Non-2xx are left to what is wrong with the request: 422 for a malformed body, 429
with ``Retry-After`` when the client is over its limit.

The client is ``request.client.host``. Behind a reverse proxy, uvicorn's proxy-headers support
replaces it with the X-Forwarded-For address only when the connecting peer is listed in
``FORWARDED_ALLOW_IPS`` (uvicorn's setting; default 127.0.0.1): a header sent by anyone else is
ignored, so it cannot be used to dodge the limit.

A graduate (student role):
- ``POST /api/v1/my/verification-codes`` {certificate_id, valid_days 1..90} → 201, the code
- ``GET /api/v1/my/verification-codes``, ``DELETE /api/v1/my/verification-codes/{code}`` → 204
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from services.certificates.domain.verification_answer import (
    CertificateShown,
    VerificationAnswer,
    VerificationState,
)
from services.certificates.domain.verification_code import MAX_VALID_DAYS, MIN_VALID_DAYS
from services.certificates.keys import trusted_payload_keys
from services.certificates.verification import (
    CodeShown,
    codes_of,
    create_code,
    revoke_code,
    verify_code,
    verify_number,
    verify_payload,
)
from services.certificates.verification_page import PAGE_HEADERS, PAGE_PATH, verification_page
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.problems import forbidden
from shared.rate_limit import FixedWindowLimiter, RateDecision, too_many_requests
from shared.service import Context, ServiceContext
from shared.text import PlainText

router = APIRouter(tags=["verification"])

_LIMITER = "verification_limiter"
_TRUSTED_KEYS = "verification_trusted_keys"


# --- what the process keeps, made on first use (startup.py is not this module's) ----------------


def _limiter(ctx: ServiceContext) -> FixedWindowLimiter:
    limiter = ctx.extras.get(_LIMITER)
    if not isinstance(limiter, FixedWindowLimiter):
        limiter = FixedWindowLimiter(
            ctx.redis, ctx.settings.redis_prefix, "verification", limit=ctx.settings.verification_per_minute
        )
        ctx.extras[_LIMITER] = limiter
    return limiter


def _trusted_keys(ctx: ServiceContext) -> Mapping[str, PublicKeyTypes]:
    # Read once: trusted_payload_keys loads the key file, a disk read per scan otherwise.
    keys: Mapping[str, PublicKeyTypes] | None = ctx.extras.get(_TRUSTED_KEYS)
    if keys is None:
        keys = dict(trusted_payload_keys(ctx.settings))
        ctx.extras[_TRUSTED_KEYS] = keys
    return keys


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _count_request(request: Request, ctx: ServiceContext) -> RateDecision:
    return await _limiter(ctx).hit(client_address(request))


async def public_rate_limit(request: Request, ctx: Context) -> None:
    decision = await _count_request(request, ctx)
    if not decision.allowed:
        raise too_many_requests(
            decision, what=f"{ctx.settings.verification_per_minute} verifications per minute per client"
        )


RateLimited = Depends(public_rate_limit)


# --- bodies and answers ---------------------------------------------------------------------------


class NumberVerification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=60, description="as printed; spaces and hyphens allowed")
    name: str = Field(min_length=1, max_length=100, description="the holder's name as printed")


class QrVerification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: str = Field(min_length=1, max_length=1500, description="the scanned text: URL or base32")


class VerificationAnswerView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    state: VerificationState
    message_zh: str
    message: str
    # The domain's CertificateShown is the masked public shape already; a second list of its
    # fields here would have to follow every change to it.
    certificate: CertificateShown | None = Field(
        description="masked; replaced_by: a lost certificate's 学历证明书, replaces: the certificate a "
        "学历证明书 replaces"
    )
    reason: str | None = Field(description="mistyped: which check failed; refused: why the QR was refused")
    changed_since_printed: bool | None = Field(description="a QR payload: no longer as printed")


class NewCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate_id: PlainText = Field(min_length=1, max_length=40)
    valid_days: int = Field(ge=MIN_VALID_DAYS, le=MAX_VALID_DAYS)


class CodeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    code_grouped: str = Field(description="ABCD-EFGH-JKLM, as shown to people")
    certificate_id: str
    certificate_number: str
    expires_at: datetime
    revoked: bool
    live: bool
    created_at: datetime


def _view(result: VerificationAnswer) -> VerificationAnswerView:
    return VerificationAnswerView.model_validate(result)


def _now() -> datetime:
    return datetime.now(UTC)


# --- anonymous ------------------------------------------------------------------------------------


@router.post(
    "/api/v1/public/verifications",
    summary="Verify a certificate by number and name (anonymous, rate-limited)",
    dependencies=[RateLimited],
)
async def verify_by_number(body: NumberVerification, ctx: Context) -> VerificationAnswerView:
    async with ctx.sessionmaker() as session:
        return _view(await verify_number(session, body.number, body.name))


@router.post(
    "/api/v1/public/qr-verifications",
    summary="Verify a certificate's scanned QR payload (anonymous, rate-limited)",
    dependencies=[RateLimited],
)
async def verify_by_qr(body: QrVerification, ctx: Context) -> VerificationAnswerView:
    async with ctx.sessionmaker() as session:
        return _view(await verify_payload(session, body.payload, _trusted_keys(ctx)))


@router.get(
    "/api/v1/public/verification-codes/{code}",
    summary="Verify a certificate by a graduate's verification code (anonymous, rate-limited)",
    dependencies=[RateLimited],
)
async def verify_by_code(code: str, ctx: Context) -> VerificationAnswerView:
    async with ctx.sessionmaker() as session:
        return _view(await verify_code(session, code[:40], now=_now()))


# --- the page -------------------------------------------------------------------------------------


def _page(result: VerificationAnswer | None = None, **kwargs: tuple[str, str]) -> HTMLResponse:
    return HTMLResponse(verification_page(result, **kwargs), headers=PAGE_HEADERS)


def _limited_page(decision: RateDecision) -> HTMLResponse:
    # The page, not JSON: a person is reading it. Same status and Retry-After as the API.
    notice = (
        f"查询过于频繁，请 {decision.retry_after} 秒后再试。",
        f"Too many verifications; try again in {decision.retry_after} s.",
    )
    response = _page(notice=notice)
    response.status_code = 429
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


@router.get(PAGE_PATH, summary="The verification page", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    return _page()


@router.post(PAGE_PATH, summary="The verification page's forms", response_class=HTMLResponse)
async def page_verify(
    request: Request,
    ctx: Context,
    number: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    decision = await _count_request(request, ctx)
    if not decision.allowed:
        return _limited_page(decision)
    async with ctx.sessionmaker() as session:
        if code.strip():
            return _page(await verify_code(session, code, now=_now()))
        return _page(await verify_number(session, number, name))


async def _scanned(payload: str, request: Request, ctx: ServiceContext) -> HTMLResponse:
    decision = await _count_request(request, ctx)
    if not decision.allowed:
        return _limited_page(decision)
    async with ctx.sessionmaker() as session:
        return _page(await verify_payload(session, payload, _trusted_keys(ctx)))


@router.get("/C/{payload}", summary="Where a certificate's QR code lands", response_class=HTMLResponse)
async def scanned_upper(payload: str, request: Request, ctx: Context) -> HTMLResponse:
    return await _scanned(payload, request, ctx)


@router.get("/c/{payload}", include_in_schema=False, response_class=HTMLResponse)
async def scanned_lower(payload: str, request: Request, ctx: Context) -> HTMLResponse:
    return await _scanned(payload, request, ctx)


# --- a graduate's codes ---------------------------------------------------------------------------


def _graduate(principal: Principal) -> Principal:
    require_role(principal, Role.STUDENT)
    if not principal.student_id:
        raise forbidden("this account is not linked to a student record")
    return principal


def _code_view(shown: CodeShown) -> CodeView:
    return CodeView.model_validate(shown)


@router.post(
    "/api/v1/my/verification-codes",
    status_code=201,
    summary="Make a verification code for one of my certificates",
    responses={404: {"description": "not my certificate"}, 409: {"description": "not a valid certificate"}},
)
async def make_code(body: NewCode, principal: CurrentPrincipal, ctx: Context) -> CodeView:
    graduate = _graduate(principal)
    async with ctx.uow() as uow:
        shown = await create_code(uow.session, graduate, body.certificate_id, body.valid_days, now=_now())
        await uow.commit()
    return _code_view(shown)


@router.get("/api/v1/my/verification-codes", summary="My verification codes, newest first")
async def my_codes(principal: CurrentPrincipal, ctx: Context) -> list[CodeView]:
    graduate = _graduate(principal)
    async with ctx.sessionmaker() as session:
        return [_code_view(shown) for shown in await codes_of(session, graduate, now=_now())]


@router.delete(
    "/api/v1/my/verification-codes/{code}",
    status_code=204,
    summary="Revoke one of my verification codes",
    responses={404: {"description": "not my code"}},
)
async def revoke(code: str, principal: CurrentPrincipal, ctx: Context) -> Response:
    graduate = _graduate(principal)
    async with ctx.uow() as uow:
        await revoke_code(uow.session, graduate, code[:40])
        await uow.commit()
    return Response(status_code=204)
