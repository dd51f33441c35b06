"""Refresh tokens: issued at sign-in, rotated on every use, revocable per session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.identity.models import RefreshToken

REFRESH_LIFETIME = timedelta(days=14)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token(
    session: AsyncSession, account_id: UUID, *, session_id: UUID | None = None, client_address: str | None
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=token_hash(token),
            session_id=session_id or uuid7(),
            account_id=account_id,
            expires_at=datetime.now(UTC) + REFRESH_LIFETIME,
            client_address=client_address,
        )
    )
    return token


async def find_for_update(session: AsyncSession, token: str) -> RefreshToken | None:
    row: RefreshToken | None = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash(token)).with_for_update()
    )
    return row


async def revoke_sessions(
    session: AsyncSession, *, account_id: UUID | None = None, session_id: UUID | None = None
) -> int:
    statement = update(RefreshToken).where(RefreshToken.revoked_at.is_(None))
    if account_id is not None:
        statement = statement.where(RefreshToken.account_id == account_id)
    if session_id is not None:
        statement = statement.where(RefreshToken.session_id == session_id)
    result = await session.execute(statement.values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount)  # type: ignore[attr-defined]
