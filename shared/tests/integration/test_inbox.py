"""The inbox: at-least-once delivery, exactly-once effects."""

from __future__ import annotations

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.tests.integration.support import (
    ThingHappened,
    consumed,
    effects,
    envelope_of,
    inbox_count,
    publish_envelope,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration

KEY = ThingHappened.event_type


async def test_inbox__redelivered_event_changes_nothing(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("events")
    await start_consumer(amqp, sessionmaker, queue)
    channel = await amqp.channel()
    first = envelope_of(ThingHappened(n=1, note="once"))
    other = envelope_of(ThingHappened(n=2, note="a different event"))

    await publish_envelope(channel, first)

    async def first_applied() -> bool:
        return consumed(queue, KEY, "applied") == 1

    await wait_for(first_applied, within=10, what="the first delivery to be applied")
    await publish_envelope(channel, first)  # the same envelope, same id: a redelivery
    await publish_envelope(channel, other)

    async def all_taken() -> bool:
        return consumed(queue, KEY, "applied") + consumed(queue, KEY, "duplicate") >= 3

    await wait_for(all_taken, within=10, what="the redelivery and the other event to be taken")
    assert consumed(queue, KEY, "duplicate") == 1
    assert consumed(queue, KEY, "applied") == 2
    assert sorted((e.event_id, e.n) for e in await effects(sessionmaker)) == sorted(
        [(first.id, 1), (other.id, 2)]
    )
    assert await inbox_count(sessionmaker, queue) == 2
