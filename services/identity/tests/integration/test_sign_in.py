from __future__ import annotations

import re
import uuid

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from services.identity.models import Account
from services.identity.seeding import SeedAccount, seed_accounts
from services.identity.tests.integration.conftest import COUNTY, REGISTRAR, RunningIdentity
from shared.auth import Role, StaticJwksVerifier

pytestmark = pytest.mark.integration


def _form(account: dict[str, str]) -> dict[str, str]:
    return {"username": account["username"], "password": account["password"]}


async def test_issue_token__seeded_account_gets_a_bearer_token(identity: RunningIdentity) -> None:
    response = await identity.sign_in(REGISTRAR["username"], REGISTRAR["password"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert response.headers["cache-control"] == "no-store"


async def test_issue_token__token_verifies_against_the_served_jwks(identity: RunningIdentity) -> None:
    token = (await identity.sign_in(COUNTY["username"], COUNTY["password"])).json()["access_token"]
    jwks_response = await identity.client.get("/.well-known/jwks.json")
    assert jwks_response.status_code == 200
    jwks = jwks_response.json()
    kid = jwt.get_unverified_header(token)["kid"]
    assert re.fullmatch(r"41-[0-9a-f]{8}", kid)
    assert kid in {k["kid"] for k in jwks["keys"]}

    principal = await StaticJwksVerifier(jwks, "41").verify(token)

    assert principal.username == COUNTY["username"]
    assert principal.role is Role.COUNTY
    assert principal.org == "410102"
    assert principal.province == "41"
    assert principal.student_id is None


async def test_issue_token__wrong_password_is_a_401_problem(identity: RunningIdentity) -> None:
    response = await identity.sign_in(REGISTRAR["username"], "not-the-password")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:xueji:problem:sign-in-failed"
    assert body["title_zh"] == "登录失败"


async def test_issue_token__unknown_user_gets_the_same_answer_as_a_wrong_password(
    identity: RunningIdentity,
) -> None:
    wrong = await identity.sign_in(REGISTRAR["username"], "not-the-password")
    unknown = await identity.sign_in("41-nobody-" + uuid.uuid4().hex[:8], "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


async def test_issue_token__a_deactivated_account_is_refused_with_the_same_answer(
    identity: RunningIdentity,
) -> None:
    username = "41-leaver-" + uuid.uuid4().hex[:8]
    async with identity.ctx.uow() as uow:
        await seed_accounts(
            uow, "41", [SeedAccount(username=username, role=Role.COUNTY, org="410102", password="pw")]
        )
    assert (await identity.sign_in(username, "pw")).status_code == 200
    async with identity.ctx.uow() as uow:
        await uow.session.execute(
            update(Account).where(Account.username == username).values(status="deactivated")
        )
        await uow.commit()

    refused = await identity.sign_in(username, "pw")
    wrong = await identity.sign_in(REGISTRAR["username"], "not-the-password")

    assert refused.status_code == 401
    assert refused.json() == wrong.json()


async def test_issue_token__missing_password_is_a_422_naming_the_field(identity: RunningIdentity) -> None:
    response = await identity.client.post("/api/v1/auth/token", data={"username": REGISTRAR["username"]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.password"]


async def test_issue_token__other_grant_type_is_a_422_naming_the_field(identity: RunningIdentity) -> None:
    response = await identity.client.post(
        "/api/v1/auth/token",
        data={**_form(REGISTRAR), "grant_type": "client_credentials"},
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.grant_type"]


async def test_issue_token__a_weak_hash_is_replaced_at_sign_in(identity: RunningIdentity) -> None:
    username = "41-weak-" + uuid.uuid4().hex[:8]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    async with identity.ctx.uow() as uow:
        await seed_accounts(uow, "41", [SeedAccount(username=username, role=Role.PROVINCE, org="41")])
    async with identity.ctx.uow() as uow:
        account = await uow.session.scalar(select(Account).where(Account.username == username))
        assert account is not None
        account.password_hash = weak.hash("old-params")
        await uow.commit()

    response = await identity.sign_in(username, "old-params")

    assert response.status_code == 200, response.text
    async with identity.ctx.sessionmaker() as session:
        stored = await session.scalar(select(Account.password_hash).where(Account.username == username))
    assert stored is not None
    assert not PasswordHasher().check_needs_rehash(stored)
    assert PasswordHasher().verify(stored, "old-params")


async def test_seed_accounts__seeded_at_start_once_per_username(identity: RunningIdentity) -> None:
    async with identity.ctx.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Account.username, Account.status, Account.role, Account.org_code).where(
                    Account.username.in_([REGISTRAR["username"], COUNTY["username"]])
                )
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        (COUNTY["username"], "active", "county", "410102"),
        (REGISTRAR["username"], "active", "school_registrar", "4141010001"),
    ]


async def test_seed_accounts__twice_keeps_one_row_and_the_files_password(identity: RunningIdentity) -> None:
    username = "41-reseeded-" + uuid.uuid4().hex[:8]
    first = SeedAccount(
        username=username, role=Role.CITY, org="4101", display_name="郑州市", password="first-pw"
    )
    second = first.model_copy(update={"password": "second-pw", "display_name": "郑州市教育局"})
    async with identity.ctx.uow() as uow:
        await seed_accounts(uow, "41", [first])
    async with identity.ctx.uow() as uow:
        await seed_accounts(uow, "41", [second])

    async with identity.ctx.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(Account.username == username))
        name = await session.scalar(select(Account.display_name).where(Account.username == username))
    assert count == 1
    assert name == "郑州市教育局"
    assert (await identity.sign_in(username, "first-pw")).status_code == 401
    assert (await identity.sign_in(username, "second-pw")).status_code == 200


async def test_my_account__the_callers_account_without_hash(identity: RunningIdentity) -> None:
    token = (await identity.sign_in(REGISTRAR["username"], REGISTRAR["password"])).json()["access_token"]
    response = await identity.client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == REGISTRAR["username"]
    assert body["role"] == "school_registrar"
    assert body["org_code"] == "4141010001"
    assert body["status"] == "active"
    assert body["lineage"] is None
    assert "password_hash" not in body
    assert not any("hash" in key for key in body)


async def test_my_account__without_a_token_is_a_401_problem(identity: RunningIdentity) -> None:
    response = await identity.client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_get_account__a_staff_account_is_visible_to_itself_only(identity: RunningIdentity) -> None:
    registrar = (await identity.sign_in(REGISTRAR["username"], REGISTRAR["password"])).json()["access_token"]
    county = (await identity.sign_in(COUNTY["username"], COUNTY["password"])).json()["access_token"]
    me = await identity.client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {registrar}"})
    registrar_id = me.json()["id"]

    own = await identity.client.get(
        f"/api/v1/accounts/{registrar_id}", headers={"Authorization": f"Bearer {registrar}"}
    )
    by_county = await identity.client.get(
        f"/api/v1/accounts/{registrar_id}", headers={"Authorization": f"Bearer {county}"}
    )

    assert own.status_code == 200
    assert by_county.status_code == 404
    assert by_county.headers["content-type"] == "application/problem+json"


async def test_get_account__a_malformed_id_is_a_422_naming_the_field(identity: RunningIdentity) -> None:
    token = (await identity.sign_in(COUNTY["username"], COUNTY["password"])).json()["access_token"]
    response = await identity.client.get(
        "/api/v1/accounts/not-a-uuid", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.account_id"]
