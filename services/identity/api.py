"""Sign-in (OAuth2 password grant → EdDSA JWT), the JWKS other services verify with, accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, false, func, or_, select, update

from services.identity.domain.account_state import AccountState, may_sign_in
from services.identity.models import Account, account_org_columns
from services.identity.passwords import check_password, hash_password
from shared.auth import JwksVerifier, Principal, Role, TokenIssuer
from shared.events.common import Lineage
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, not_found, unauthorized
from shared.service import Context
from shared.telemetry import ATTR_ACCOUNT_ID, ATTR_SIGN_IN_OUTCOME

# Keys of ``ServiceContext.extras`` that app.py's start hook fills.
TOKEN_ISSUER = "token_issuer"
OWN_VERIFIER = "own_jwt_verifier"

tracer = trace.get_tracer("xueji.identity")
router = APIRouter(tags=["identity"])


def _issuer(ctx: Context) -> TokenIssuer:
    issuer: TokenIssuer = ctx.extras[TOKEN_ISSUER]
    return issuer


_bearer = HTTPBearer(auto_error=False)


async def _own_principal(
    ctx: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Like ``shared.auth.CurrentPrincipal``, but checked against the keys identity holds rather
    than fetched from its own JWKS over HTTP (which would make identity call itself)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    verifier: JwksVerifier = ctx.extras[OWN_VERIFIER]
    return await verifier.verify(credentials.credentials)


OwnPrincipal = Annotated[Principal, Depends(_own_principal)]


@router.get("/.well-known/jwks.json", summary="Public keys that verify identity's tokens")
async def jwks(ctx: Context) -> JSONResponse:
    # Cached briefly: verifiers refetch on an unknown key id anyway (rotation).
    return JSONResponse(_issuer(ctx).jwks(), headers={"Cache-Control": "public, max-age=300"})


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


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


@router.post("/api/v1/auth/token", summary="Sign in: OAuth2 password grant", response_model=TokenResponse)
async def issue_token(
    ctx: Context,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    # Only checked: RFC 6749 clients send "password"; FastAPI's own form makes it optional too.
    grant_type: Annotated[str | None, Form(pattern=r"^password$")] = None,
) -> JSONResponse:
    issuer = _issuer(ctx)
    with tracer.start_as_current_span("identity.sign_in") as span:
        # The session is closed before the (deliberately slow) hash check: argon2 must not hold
        # a pooled connection while it works.
        async with ctx.sessionmaker() as session:
            account = await session.scalar(select(Account).where(Account.username == username))
        check = await check_password(account.password_hash if account else None, password)
        if account is None or not may_sign_in(AccountState(account.status), check.matches):
            span.set_attribute(ATTR_SIGN_IN_OUTCOME, "refused")
            raise _sign_in_refused()
        span.set_attribute(ATTR_ACCOUNT_ID, str(account.id))
        if check.needs_rehash:
            await _rehash(ctx, account, password)
        span.set_attribute(ATTR_SIGN_IN_OUTCOME, "issued")
        token = issuer.issue(_principal_of(account))
    body = TokenResponse(access_token=token, expires_in=int(issuer.lifetime.total_seconds()))
    # RFC 6749 §5.1: token responses must not be cached.
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _rehash(ctx: Context, account: Account, password: str) -> None:
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


def _principal_of(account: Account) -> Principal:
    return Principal(
        account_id=str(account.id),
        username=account.username,
        role=Role(account.role),
        org=account.org_code,
        province=account.province,
        student_id=account.student_id,
    )


class AccountView(BaseModel):
    id: UUID
    username: str
    role: Role
    org_code: str
    province: str
    display_name: str
    student_id: str | None
    status: AccountState
    lineage: Lineage | None  # students only: the school the account belongs to
    created_at: datetime
    updated_at: datetime


def _view(account: Account) -> AccountView:
    lineage = None
    if account.province_code and account.city_code and account.county_code and account.school_code:
        lineage = Lineage(
            province=account.province_code,
            city=account.city_code,
            county=account.county_code,
            school=account.school_code,
        )
    return AccountView(
        id=account.id,
        username=account.username,
        role=Role(account.role),
        org_code=account.org_code,
        province=account.province,
        display_name=account.display_name,
        student_id=account.student_id,
        status=AccountState(account.status),
        lineage=lineage,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _own_account_id(principal: Principal) -> UUID | None:
    try:
        return UUID(principal.account_id)
    except ValueError:
        return None


def _is_self(principal: Principal) -> ColumnElement[bool]:
    own = _own_account_id(principal)
    return Account.id == own if own is not None else false()


@router.get("/api/v1/accounts/me", summary="The caller's own account", response_model=AccountView)
async def my_account(principal: OwnPrincipal, ctx: Context) -> AccountView:
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(_is_self(principal)))
    if account is None:
        raise not_found("your account")
    return _view(account)


@router.get(
    "/api/v1/accounts/{account_id}", summary="An account within your jurisdiction", response_model=AccountView
)
async def get_account(account_id: UUID, principal: OwnPrincipal, ctx: Context) -> AccountView:
    # Student accounts follow the organisation tree; a staff account is visible to itself only
    # for now (staff rows carry no lineage yet).
    visible = or_(
        _is_self(principal),
        and_(Account.role == Role.STUDENT.value, jurisdiction_filter(principal, account_org_columns())),
    )
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.id == account_id, visible))
    if account is None:
        raise not_found(f"account {account_id}")
    return _view(account)
