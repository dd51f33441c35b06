"""Dead letters: what can never be applied leaves the queue with its reason, and the consumer
goes on with the next message."""

from __future__ import annotations

import json

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.consumer import DEAD_ATTEMPTS_HEADER, DEAD_CONSUMER_HEADER, DEAD_REASON_HEADER
from shared.tests.integration.support import (
    DELIVERY_LIMIT,
    PoisonArrived,
    ThingHappened,
    consumed,
    dead_letters,
    effects,
    envelope_of,
    inbox_count,
    publish,
    publish_envelope,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration


async def test_dead_letter__poison_event_after_delivery_limit_and_consumer_goes_on(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("events")
    await start_consumer(amqp, sessionmaker, queue)
    channel = await amqp.channel()
    poison = envelope_of(PoisonArrived(reason="record 4101 is cursed"))
    good = envelope_of(ThingHappened(n=5, note="after the poison"))

    await publish_envelope(channel, poison)
    [dead] = await dead_letters(channel, queue, count=1)
    await publish_envelope(channel, good)

    async def good_applied() -> bool:
        return consumed(queue, ThingHappened.event_type, "applied") == 1

    await wait_for(good_applied, within=10, what="the good event after the poison to be applied")
    assert dead.message_id == str(poison.id)
    assert dead.body == poison.to_bytes()
    headers = dead.headers or {}
    reason = str(headers[DEAD_REASON_HEADER])
    assert "RuntimeError: poison pill: record 4101 is cursed" in reason
    assert f"{DELIVERY_LIMIT} times" in reason
    assert headers[DEAD_ATTEMPTS_HEADER] == DELIVERY_LIMIT
    assert headers[DEAD_CONSUMER_HEADER] == queue
    assert consumed(queue, PoisonArrived.event_type, "retried") == DELIVERY_LIMIT - 1
    assert consumed(queue, PoisonArrived.event_type, "dead_lettered") == 1
    # The poison handler wrote before raising: none of it may remain, nor its inbox claim.
    assert [(e.event_id, e.n) for e in await effects(sessionmaker)] == [(good.id, 5)]
    assert await inbox_count(sessionmaker, queue) == 1


def unreadable_messages() -> dict[str, tuple[bytes, str]]:
    """message id -> (body, what the dead-letter reason must say)."""
    valid = envelope_of(ThingHappened(n=1))
    return {
        "not-json": (b"\xff not json at all", "malformed envelope"),
        "envelope-missing-fields": (
            json.dumps({"type": ThingHappened.event_type, "data": {"n": 1}}).encode(),
            "malformed envelope: version: Field required",
        ),
        "payload-missing-field": (
            valid.model_copy(update={"data": {"note": "no n"}}).to_bytes(),
            f"malformed {ThingHappened.event_type} payload: n: Field required",
        ),
        "unknown-type": (
            valid.model_copy(update={"type": "testing.unknown.happened"}).to_bytes(),
            "no handler for testing.unknown.happened v1",
        ),
        "unknown-version": (
            valid.model_copy(update={"version": 7}).to_bytes(),
            f"no handler for {ThingHappened.event_type} v7",
        ),
    }


async def test_dead_letter__unreadable_message_goes_straight_to_dlq(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("events")
    await start_consumer(amqp, sessionmaker, queue)
    channel = await amqp.channel()
    bad = unreadable_messages()
    # Straight into the queue through the default exchange: its bindings would never route an
    # unknown type, but a misconfigured binding or a hostile producer can.
    for message_id, (body, _) in bad.items():
        await publish(channel, body, exchange="", routing_key=queue, message_id=message_id)
    good = envelope_of(ThingHappened(n=9))
    await publish_envelope(channel, good)

    dead = {m.message_id: m for m in await dead_letters(channel, queue, count=len(bad))}
    assert dead.keys() == bad.keys()
    for message_id, (body, expected_reason) in bad.items():
        headers = dead[message_id].headers or {}
        assert dead[message_id].body == body
        assert expected_reason in str(headers[DEAD_REASON_HEADER]), message_id
        assert headers[DEAD_ATTEMPTS_HEADER] == 1, message_id

    async def good_applied() -> bool:
        return consumed(queue, ThingHappened.event_type, "applied") == 1

    await wait_for(good_applied, within=10, what="the good event after the bad ones")
    assert consumed(queue, "unknown", "dead_lettered") == len(bad)
    assert [e.n for e in await effects(sessionmaker)] == [9]
    assert await inbox_count(sessionmaker, queue) == 1
