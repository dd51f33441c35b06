"""Sign-out at identity (RFC 7009 revocation): a refresh token ends its whole session."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest
from sqlalchemy import select

from services.identity.models import Account, AuditEntry
from services.identity.seeding import SeedAccount, seed_accounts
from services.identity.tests.integration.conftest import RunningIdentity
from shared.auth import Role

pytestmark = pytest.mark.integration


async def _account(identity: RunningIdentity) -> str:
    username = "41-leaving-" + uuid.uuid4().hex[:8]
    async with identity.ctx.uow() as uow:
        await seed_accounts(
            uow, "41", [SeedAccount(username=username, role=Role.COUNTY, org="410102", password="pw-revoke")]
        )
    return username


async def _refresh_token(identity: RunningIdentity, username: str) -> str:
    response = await identity.sign_in(username, "pw-revoke")
    assert response.status_code == 200, response.text
    return str(response.json()["refresh_token"])


async def _refresh(identity: RunningIdentity, token: str) -> httpx.Response:
    return await identity.client.post("/api/v1/auth/refresh", data={"refresh_token": token})


async def _revoke(identity: RunningIdentity, form: dict[str, str]) -> httpx.Response:
    return await identity.client.post("/api/v1/auth/revoke", data=form)


async def test_revoke__ends_the_session_with_its_rotated_tokens_and_is_audited(
    identity: RunningIdentity,
) -> None:
    username = await _account(identity)
    rotated = await _refresh_token(identity, username)
    traded = await _refresh(identity, rotated)
    assert traded.status_code == 200
    current = traded.json()["refresh_token"]

    response = await _revoke(identity, {"refresh_token": current, "token_type_hint": "refresh_token"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert (await _refresh(identity, current)).status_code == 401
    assert (await _refresh(identity, rotated)).status_code == 401
    async with identity.ctx.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.username == username))
        outcomes = list(
            await session.scalars(
                select(AuditEntry.outcome).where(
                    AuditEntry.account_id == str(account_id), AuditEntry.kind == "session_revoked"
                )
            )
        )
    assert outcomes == ["signed_out"]


async def test_revoke__an_older_token_of_the_session_ends_it_too(identity: RunningIdentity) -> None:
    username = await _account(identity)
    rotated = await _refresh_token(identity, username)
    current = (await _refresh(identity, rotated)).json()["refresh_token"]

    assert (await _revoke(identity, {"refresh_token": rotated})).status_code == 200

    assert (await _refresh(identity, current)).status_code == 401


async def test_revoke__other_sessions_of_the_account_keep_working(identity: RunningIdentity) -> None:
    username = await _account(identity)
    leaving = await _refresh_token(identity, username)
    staying = await _refresh_token(identity, username)

    assert (await _revoke(identity, {"refresh_token": leaving})).status_code == 200

    assert (await _refresh(identity, leaving)).status_code == 401
    assert (await _refresh(identity, staying)).status_code == 200


async def test_revoke__an_unknown_or_already_revoked_token_gets_the_same_200(
    identity: RunningIdentity,
) -> None:
    username = await _account(identity)
    token = await _refresh_token(identity, username)
    assert (await _revoke(identity, {"refresh_token": token})).status_code == 200

    again = await _revoke(identity, {"refresh_token": token})
    unknown = await _revoke(identity, {"refresh_token": secrets.token_urlsafe(32)})

    assert again.status_code == unknown.status_code == 200
    assert again.content == unknown.content


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"token_type_hint": "refresh_token"}, "body.refresh_token"),
        ({"refresh_token": "short"}, "body.refresh_token"),
        ({"refresh_token": secrets.token_urlsafe(32), "token_type_hint": "x" * 65}, "body.token_type_hint"),
    ],
)
async def test_revoke__malformed_input_is_a_422_naming_the_field(
    identity: RunningIdentity, form: dict[str, str], field: str
) -> None:
    response = await _revoke(identity, form)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
