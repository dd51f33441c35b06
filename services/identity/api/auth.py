"""Sign-in (OAuth2 password grant → EdDSA JWT + rotating refresh token), refresh, password
change, and the JWKS other services verify with."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy import func, select, update

from services.identity import sessions
from services.identity.api.common import OwnPrincipal, client_address, issuer_of, refresh_issuer
from services.identity.audit import AuditKind, record
from services.identity.domain.account_state import AccountState, may_sign_in
from services.identity.domain.password_policy import password_weakness
from services.identity.keys import rotate_signing_key
from services.identity.models import Account
from services.identity.passwords import check_password, hash_password
from services.identity.throttle import LoginThrottle
from shared.auth import Principal, Role, require_role
from shared.problems import Problem, field_problem
from shared.service import Context, ServiceContext
from shared.telemetry import ATTR_ACCOUNT_ID, ATTR_SIGN_IN_OUTCOME

tracer = trace.get_tracer("xueji.identity")
router = APIRouter(tags=["sign-in"])


@router.get("/.well-known/jwks.json", summary="Public keys that verify identity's tokens")
async def jwks(ctx: Context) -> JSONResponse:
    # Cached briefly: verifiers refetch on an unknown key id anyway (rotation).
    return JSONResponse(issuer_of(ctx).jwks(), headers={"Cache-Control": "public, max-age=300"})


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


def _sign_in_refused() -> Problem:
    # One answer for unknown user, wrong password, not activated and deactivated: telling them
    # apart would let anyone probe which usernames (student numbers) exist.
    return Problem(
        401,
        "Sign-in failed",
        title_zh="登录失败",
        slug="sign-in-failed",
        detail="the username or password is incorrect, or the account may not sign in "
        "/ 用户名或密码错误，或帐户不可登录",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _locked(seconds: int) -> Problem:
    return Problem(
        429,
        "Too many failed sign-ins",
        title_zh="登录失败次数过多",
        slug="sign-in-locked",
        detail=f"sign-in is locked for {seconds} s / 登录已锁定 {seconds} 秒",
        headers={"Retry-After": str(seconds)},
    )


def _must_change() -> Problem:
    return Problem(
        403,
        "Password change required",
        title_zh="须修改密码",
        slug="password-change-required",
        detail="the password is a one-time password: set a new one at POST /api/v1/auth/password "
        "/ 一次性密码，请先修改密码",
    )


def _no_store(body: BaseModel) -> JSONResponse:
    # RFC 6749 §5.1: token responses must not be cached.
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _checked_account(ctx: ServiceContext, username: str, password: str, address: str) -> Account:
    """The account if the password is right and it may sign in; counts and audits failures."""
    throttle = LoginThrottle(ctx.redis, ctx.settings)
    locked = await throttle.locked_for(username, address)
    if locked is not None:
        raise _locked(locked)
    # The session is closed before the (deliberately slow) hash check: argon2 must not hold
    # a pooled connection while it works.
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
    check = await check_password(account.password_hash if account else None, password)
    if account is None or not may_sign_in(AccountState(account.status), check.matches):
        await throttle.failed(username, address)
        async with ctx.uow() as uow:
            record(
                uow.session,
                AuditKind.SIGN_IN,
                "refused",
                account_id=account.id if account else None,
                client_address=address,
            )
            await uow.commit()
        raise _sign_in_refused()
    await throttle.succeeded(username)
    if check.needs_rehash:
        await _rehash(ctx, account, password)
    return account


@router.post("/api/v1/auth/token", summary="Sign in: OAuth2 password grant", response_model=TokenResponse)
async def issue_token(
    ctx: Context,
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    # Only checked: RFC 6749 clients send "password"; FastAPI's own form makes it optional too.
    grant_type: Annotated[str | None, Form(pattern=r"^password$")] = None,
) -> JSONResponse:
    address = client_address(request)
    with tracer.start_as_current_span("identity.sign_in") as span:
        try:
            account = await _checked_account(ctx, username, password, address)
        except Problem:
            span.set_attribute(ATTR_SIGN_IN_OUTCOME, "refused")
            raise
        span.set_attribute(ATTR_ACCOUNT_ID, str(account.id))
        async with ctx.uow() as uow:
            if account.must_change_password:
                record(uow.session, AuditKind.SIGN_IN, "password_change_required", account_id=account.id)
                await uow.commit()
                span.set_attribute(ATTR_SIGN_IN_OUTCOME, "password_change_required")
                raise _must_change()
            refresh = sessions.new_refresh_token(uow.session, account.id, client_address=address)
            record(uow.session, AuditKind.SIGN_IN, "issued", account_id=account.id, client_address=address)
            await uow.commit()
        span.set_attribute(ATTR_SIGN_IN_OUTCOME, "issued")
    return _tokens(ctx, account, refresh)


def _tokens(ctx: ServiceContext, account: Account, refresh: str) -> JSONResponse:
    issuer = issuer_of(ctx)
    return _no_store(
        TokenResponse(
            access_token=issuer.issue(principal_of(account)),
            expires_in=int(issuer.lifetime.total_seconds()),
            refresh_token=refresh,
        )
    )


@router.post(
    "/api/v1/auth/refresh", summary="Trade a refresh token for new tokens", response_model=TokenResponse
)
async def refresh_tokens(
    ctx: Context, request: Request, refresh_token: Annotated[str, Form(min_length=16, max_length=200)]
) -> JSONResponse:
    now = datetime.now(UTC)
    async with ctx.uow() as uow:
        row = await sessions.find_for_update(uow.session, refresh_token)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise _sign_in_refused()
        if row.rotated_at is not None:
            # A rotated token came back: it was copied. End the whole session (RFC 9700 §4.14.2).
            await sessions.revoke_sessions(uow.session, session_id=row.session_id)
            record(uow.session, AuditKind.SESSION_REVOKED, "refresh_token_reused", account_id=row.account_id)
            await uow.commit()
            raise _sign_in_refused()
        account = await uow.session.get(Account, row.account_id)
        if account is None or AccountState(account.status) is not AccountState.ACTIVE:
            raise _sign_in_refused()
        row.rotated_at = now
        new = sessions.new_refresh_token(
            uow.session, account.id, session_id=row.session_id, client_address=client_address(request)
        )
        await uow.commit()
    return _tokens(ctx, account, new)


@router.post(
    "/api/v1/auth/revoke",
    summary="Sign out: end the session a refresh token belongs to (RFC 7009)",
    response_class=Response,
    responses={200: {"description": "Revoked, or the token was not known (the answer is the same)"}},
)
async def revoke_token(
    ctx: Context,
    request: Request,
    refresh_token: Annotated[str, Form(min_length=16, max_length=200)],
    # RFC 7009 §2.1: only a hint; an unknown hint must not fail the request, so it is not checked
    # beyond its size. Only refresh tokens are revocable: access tokens are verified offline.
    token_type_hint: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    # No per-address throttle: the token is 256 random bits, and the answer never says whether it
    # was known (RFC 7009 §2.2), so there is nothing to guess; and LoginThrottle counts per
    # username, which a revocation does not have.
    async with ctx.uow() as uow:
        row = await sessions.find_for_update(uow.session, refresh_token)
        if row is not None:
            # The whole family: a rotated token of the session might be in a thief's hands.
            ended = await sessions.revoke_sessions(uow.session, session_id=row.session_id)
            if ended:
                record(
                    uow.session,
                    AuditKind.SESSION_REVOKED,
                    "signed_out",
                    account_id=row.account_id,
                    session_id=str(row.session_id),
                    client_address=client_address(request),
                )
            await uow.commit()
    return Response(status_code=200, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


class PasswordChanged(BaseModel):
    changed: bool = True


@router.post("/api/v1/auth/password", summary="Change a password (also ends a one-time password)")
async def change_password(
    ctx: Context,
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    new_password: Annotated[str, Form(min_length=1, max_length=256)],
) -> PasswordChanged:
    weakness = password_weakness(new_password, username=username, old_password=password)
    if weakness is not None:
        raise field_problem("new_password", *weakness)
    account = await _checked_account(ctx, username, password, client_address(request))
    new_hash = await hash_password(new_password)
    async with ctx.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(password_hash=new_hash, must_change_password=False, updated_at=func.now())
        )
        # Everyone holding the old password's sessions is signed out.
        await sessions.revoke_sessions(uow.session, account_id=account.id)
        record(uow.session, AuditKind.PASSWORD_CHANGE, "changed", account_id=account.id)
        await uow.commit()
    return PasswordChanged()


class RotatedKeys(BaseModel):
    current: str
    published: list[str]


@router.post("/api/v1/admin/signing-keys/rotate", summary="Rotate the JWT signing key (province admins)")
async def rotate_keys(principal: OwnPrincipal, ctx: Context) -> RotatedKeys:
    require_role(principal, Role.PROVINCE)
    try:
        new_kid = await asyncio.to_thread(rotate_signing_key, ctx.settings)
    except OSError as exc:
        raise Problem(
            409,
            "Keys are read-only here",
            title_zh="密钥目录只读",
            slug="keys-read-only",
            detail=f"the key directory cannot be written ({exc.strerror}): rotate through the "
            "deployment's secrets / 请通过部署的密钥管理轮换",
        ) from exc
    refresh_issuer(ctx)
    async with ctx.uow() as uow:
        record(uow.session, AuditKind.SIGNING_KEY_ROTATED, new_kid, actor_id=principal.account_id)
        await uow.commit()
    return RotatedKeys(current=new_kid, published=sorted(issuer_of(ctx).keys))


async def _rehash(ctx: ServiceContext, account: Account, password: str) -> None:
    """argon2 says the stored hash is weaker than today's parameters: replace it while we hold
    the password, unless it changed meanwhile."""
    new_hash = await hash_password(password)
    async with ctx.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == account.id, Account.password_hash == account.password_hash)
            .values(password_hash=new_hash, updated_at=func.now())
        )
        await uow.commit()


def principal_of(account: Account) -> Principal:
    return Principal(
        account_id=str(account.id),
        username=account.username,
        role=Role(account.role),
        org=account.org_code,
        province=account.province,
        student_id=account.student_id,
    )
