"""在线用户管理: the signed-in sessions within one's jurisdiction, and forced logout.

A session is a family of rotated refresh tokens. Forced logout revokes the family at once; the
access token already issued stays valid until it expires (at most ``access_token_minutes``),
because other services verify tokens offline against the JWKS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select

from services.identity import sessions
from services.identity.api.common import OwnPrincipal
from services.identity.audit import AuditKind, record
from services.identity.models import Account, RefreshToken, account_org_columns
from shared.auth import BUREAU_ROLES, Role, require_role
from shared.jurisdiction import jurisdiction_filter
from shared.problems import not_found
from shared.service import Context

router = APIRouter(tags=["sessions"])
MANAGERS = (*BUREAU_ROLES, Role.SCHOOL_REGISTRAR)


class SessionView(BaseModel):
    session_id: UUID
    account_id: UUID
    username: str
    role: Role
    org_code: str
    signed_in_at: datetime
    last_refreshed_at: datetime
    client_address: str | None


def _live() -> list[ColumnElement[bool]]:
    return [
        RefreshToken.revoked_at.is_(None),
        RefreshToken.rotated_at.is_(None),
        RefreshToken.expires_at > datetime.now(UTC),
    ]


@router.get(
    "/api/v1/sessions", summary="Signed-in sessions in your jurisdiction", response_model=list[SessionView]
)
async def list_sessions(principal: OwnPrincipal, ctx: Context, limit: int = 200) -> list[SessionView]:
    require_role(principal, *MANAGERS)
    started = (
        select(RefreshToken.session_id, func.min(RefreshToken.issued_at).label("started"))
        .group_by(RefreshToken.session_id)
        .subquery()
    )
    query = (
        select(RefreshToken, Account, started.c.started)
        .join(Account, Account.id == RefreshToken.account_id)
        .join(started, started.c.session_id == RefreshToken.session_id)
        .where(*_live(), jurisdiction_filter(principal, account_org_columns()))
        .order_by(RefreshToken.issued_at.desc())
        .limit(max(1, min(limit, 1000)))
    )
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(query)).all()
    return [
        SessionView(
            session_id=token.session_id,
            account_id=account.id,
            username=account.username,
            role=Role(account.role),
            org_code=account.org_code,
            signed_in_at=started_at,
            last_refreshed_at=token.issued_at,
            client_address=token.client_address,
        )
        for token, account, started_at in rows
    ]


@router.delete("/api/v1/sessions/{session_id}", summary="Force a session to sign out", status_code=204)
async def force_logout(session_id: UUID, principal: OwnPrincipal, ctx: Context) -> None:
    require_role(principal, *MANAGERS)
    async with ctx.uow() as uow:
        account_id = await uow.session.scalar(
            select(RefreshToken.account_id)
            .join(Account, Account.id == RefreshToken.account_id)
            .where(
                RefreshToken.session_id == session_id, jurisdiction_filter(principal, account_org_columns())
            )
            .limit(1)
        )
        if account_id is None:
            raise not_found(f"session {session_id}")
        await sessions.revoke_sessions(uow.session, session_id=session_id)
        record(
            uow.session,
            AuditKind.SESSION_REVOKED,
            "forced_logout",
            account_id=account_id,
            actor_id=principal.account_id,
            session_id=str(session_id),
        )
        await uow.commit()
