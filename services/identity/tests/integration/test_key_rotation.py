"""Key rotation: the new key signs, the retired key still verifies until its tokens expire."""

from __future__ import annotations

import uuid

import jwt
import pytest

from services.identity.tests.integration.conftest import REGISTRAR, RunningIdentity
from shared.auth import Principal, Role, StaticJwksVerifier

pytestmark = pytest.mark.integration


def _province() -> Principal:
    return Principal(account_id=str(uuid.uuid4()), username="p", role=Role.PROVINCE, org="41", province="41")


async def test_rotate_keys__old_tokens_still_verify_and_new_ones_use_the_new_key(
    identity: RunningIdentity,
) -> None:
    old_token = (await identity.sign_in(REGISTRAR["username"], REGISTRAR["password"])).json()["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    rotated = await identity.client.post(
        "/api/v1/admin/signing-keys/rotate", headers=identity.mint(_province())
    )

    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["current"] != old_kid
    assert set(body["published"]) >= {old_kid, body["current"]}
    jwks = (await identity.client.get("/.well-known/jwks.json")).json()
    verifier = StaticJwksVerifier(jwks, "41")
    assert (await verifier.verify(old_token)).username == REGISTRAR["username"]
    new_token = (await identity.sign_in(REGISTRAR["username"], REGISTRAR["password"])).json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == body["current"]
    assert (
        await identity.client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {old_token}"})
    ).status_code == 200


async def test_rotate_keys__only_the_province(identity: RunningIdentity) -> None:
    county = Principal(
        account_id=str(uuid.uuid4()), username="c", role=Role.COUNTY, org="410102", province="41"
    )
    response = await identity.client.post("/api/v1/admin/signing-keys/rotate", headers=identity.mint(county))
    assert response.status_code == 403
