"""The verifier remembers a token that passed every check, until its ``exp``, and nothing else."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import Principal, Role, StaticJwksVerifier, TokenIssuer
from shared.problems import Problem

REGISTRAR = Principal(
    account_id="a1", username="r", role=Role.SCHOOL_REGISTRAR, org="4141010001", province="41"
)


class CountingVerifier(StaticJwksVerifier):
    """Counts the full checks (signature and claims) actually made."""

    full_checks = 0

    async def _verify_fully(self, token: str) -> tuple[Principal, float]:
        self.full_checks += 1
        return await super()._verify_fully(token)


def _issuer(lifetime: timedelta = timedelta(minutes=15)) -> TokenIssuer:
    return TokenIssuer(
        province="41", keys={"k1": Ed25519PrivateKey.generate()}, current="k1", lifetime=lifetime
    )


async def test_a_verified_token__is_checked_in_full_once() -> None:
    issuer = _issuer()
    verifier = CountingVerifier(issuer.jwks(), "41")
    token = issuer.issue(REGISTRAR)

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert first == second == REGISTRAR
    assert verifier.full_checks == 1


async def test_an_altered_token__is_refused_although_the_genuine_one_is_remembered() -> None:
    issuer = _issuer()
    verifier = CountingVerifier(issuer.jwks(), "41")
    token = issuer.issue(REGISTRAR)
    await verifier.verify(token)
    signature = token.rsplit(".", 1)[1]
    altered = token[: -len(signature)] + ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(Problem) as refused:
        await verifier.verify(altered)

    assert refused.value.status == 401


async def test_a_refused_token__is_not_remembered() -> None:
    issuer = _issuer()
    other = _issuer()  # a key the verifier does not know
    verifier = CountingVerifier(issuer.jwks(), "41")
    forged = other.issue(REGISTRAR)

    for _ in range(2):
        with pytest.raises(Problem):
            await verifier.verify(forged)

    assert verifier.full_checks == 2


async def test_a_remembered_token__is_refused_once_it_expires() -> None:
    lifetime = timedelta(seconds=2)
    issuer = _issuer(lifetime)
    verifier = CountingVerifier(issuer.jwks(), "41")
    # Issued so that it expires at the next whole second (exp is in whole seconds).
    expires = int(time.time()) + 1
    token = issuer.issue(REGISTRAR, now=datetime.fromtimestamp(expires, UTC) - lifetime)
    assert await verifier.verify(token) == REGISTRAR

    await asyncio.sleep(max(0.0, expires + 0.05 - time.time()))  # past exp by the clock both use

    with pytest.raises(Problem) as refused:
        await verifier.verify(token)
    assert refused.value.status == 401
    assert "expired" in str(refused.value.detail)


async def test_the_memory_is_bounded__least_recently_used_out() -> None:
    issuer = _issuer()
    verifier = CountingVerifier(issuer.jwks(), "41", cache_size=2)
    tokens = [issuer.issue(REGISTRAR, now=datetime.now(UTC) - timedelta(seconds=i)) for i in range(3)]
    for token in tokens:
        await verifier.verify(token)
    assert verifier.full_checks == 3

    await verifier.verify(tokens[2])  # remembered
    await verifier.verify(tokens[0])  # pushed out by the third

    assert verifier.full_checks == 4
