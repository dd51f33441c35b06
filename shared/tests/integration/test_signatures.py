"""Inter-province events: only what a trusted partner signed for this province is applied;
everything else is dead-lettered with the reason."""

from __future__ import annotations

import pytest
from aio_pika.abc import AbstractRobustConnection
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.consumer import DEAD_REASON_HEADER
from shared.bus.topology import INTERPROVINCE_IN, interprovince_routing_key
from shared.signing import ED25519, Signer, TrustedKey, TrustStore
from shared.tests.integration.support import (
    PARTNER,
    PROVINCE,
    ThingHappened,
    consumed,
    dead_letters,
    effects,
    envelope_of,
    inbox_count,
    publish,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration

KEY = ThingHappened.event_type


async def test_signature__only_a_trusted_partner_signing_for_us_is_applied(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    partner = Signer(PARTNER, f"{PARTNER}-k1", Ed25519PrivateKey.generate())
    stranger = Signer(PARTNER, "99-k1", Ed25519PrivateKey.generate())  # claims 37, not in the store
    trust = TrustStore({partner.key_id: TrustedKey(PARTNER, ED25519, partner.key.public_key())})
    queue = unique_queue("interprovince")
    await start_consumer(amqp, sessionmaker, queue, trust=trust)
    channel = await amqp.channel()

    def signed(
        n: int, *, by: Signer = partner, province: str = PARTNER, to: str = PROVINCE
    ) -> tuple[bytes, dict[str, str]]:
        body = envelope_of(ThingHappened(n=n), province=province).to_bytes()
        return body, by.headers_for(to, body)

    unsigned_body = envelope_of(ThingHappened(n=1), province=PARTNER).to_bytes()
    tampered_body, tampered_headers = signed(3)
    cases: dict[str, tuple[bytes, dict[str, str], str]] = {
        "unsigned": (unsigned_body, {}, "unsigned"),
        "unknown-key": (*signed(2, by=stranger), "unknown signing key '99-k1'"),
        "tampered": (tampered_body.replace(b'"n":3', b'"n":33'), tampered_headers, "bad signature"),
        "other-province": (*signed(4, province="11"), f"belongs to province {PARTNER}, event claims 11"),
        "other-destination": (*signed(5, to="44"), "addressed to province 44"),
    }
    assert b'"n":33' in cases["tampered"][0], "the tampering must change the body"
    routing_key = interprovince_routing_key(PROVINCE, KEY)
    for message_id, (body, headers, _) in cases.items():
        await publish(
            channel,
            body,
            exchange=INTERPROVINCE_IN,
            routing_key=routing_key,
            message_id=message_id,
            headers=headers,
        )
    good_body, good_headers = signed(6)
    await publish(
        channel, good_body, exchange=INTERPROVINCE_IN, routing_key=routing_key, headers=good_headers
    )

    dead = {m.message_id: m for m in await dead_letters(channel, queue, count=len(cases))}
    assert dead.keys() == cases.keys()
    for message_id, (body, _, expected_reason) in cases.items():
        reason = str((dead[message_id].headers or {})[DEAD_REASON_HEADER])
        assert reason.startswith("untrusted inter-province event: "), (message_id, reason)
        assert expected_reason in reason, (message_id, reason)
        assert dead[message_id].body == body

    async def good_applied() -> bool:
        return consumed(queue, KEY, "applied") == 1

    await wait_for(good_applied, within=10, what="the correctly signed event to be applied")
    assert consumed(queue, "unknown", "dead_lettered") == len(cases)
    assert [e.n for e in await effects(sessionmaker)] == [6]
    assert await inbox_count(sessionmaker, queue) == 1
