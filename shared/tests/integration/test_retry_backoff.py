"""Retries wait: an event whose prerequisite is still on its way is applied once it arrives,
instead of burning its attempts in a few milliseconds and landing in the dead-letter queue."""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.consumer import Subscriptions, retry_delay
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope, EventPayload
from shared.tests.integration.support import (
    DELIVERY_LIMIT,
    Effect,
    ThingHappened,
    consumed,
    effects,
    envelope_of,
    publish_envelope,
    start_consumer,
    unique_queue,
    wait_for,
    when_thing_happened_record_effect,
)

pytestmark = pytest.mark.integration


class FollowUpArrived(EventPayload):
    """Applies only after the ThingHappened with the same ``n`` (like a transfer step that
    overtakes the event opening the case)."""

    event_type = "testing.followup.arrived"

    n: int


async def when_follow_up_arrived_needs_the_thing(
    event: FollowUpArrived, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    thing = await uow.session.scalar(select(Effect).where(Effect.n == event.n, Effect.note != "follow-up"))
    if thing is None:
        raise LookupError(f"thing {event.n} not here yet")
    uow.session.add(Effect(event_id=meta.id, n=event.n, note="follow-up"))


def test_retry_delay__grows_and_is_capped() -> None:
    assert [retry_delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


async def test_retry__an_event_overtaking_its_prerequisite_is_applied_late_not_dead_lettered(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("events")
    subscriptions = Subscriptions()
    subscriptions.on(ThingHappened)(when_thing_happened_record_effect)
    subscriptions.on(FollowUpArrived)(when_follow_up_arrived_needs_the_thing)
    await start_consumer(amqp, sessionmaker, queue, subscriptions=subscriptions)
    channel = await amqp.channel()

    await publish_envelope(channel, envelope_of(FollowUpArrived(n=7)))
    # The prerequisite comes well inside the retry window (0.5 + 1 s for a limit of 3) but far
    # later than three immediate redeliveries would take.
    assert DELIVERY_LIMIT == 3
    await asyncio.sleep(0.8)
    await publish_envelope(channel, envelope_of(ThingHappened(n=7)))

    async def follow_up_applied() -> bool:
        return consumed(queue, FollowUpArrived.event_type, "applied") == 1

    await wait_for(follow_up_applied, within=15, what="the follow-up to be applied after its prerequisite")
    assert consumed(queue, FollowUpArrived.event_type, "dead_lettered") == 0
    assert sorted(e.note for e in await effects(sessionmaker)) == ["", "follow-up"]
