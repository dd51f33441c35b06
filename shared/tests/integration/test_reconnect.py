"""A connection cut mid-stream: relay and consumer reconnect by themselves (``connect_robust``)
and every event is applied exactly once.

Whether the cut lands between a publish and its mark, or between a handler's commit and its
ack, is up to timing, so duplicates happen in most runs, not all; test_outbox and test_inbox
make them on purpose. What this test holds to in every run: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.consumer import Subscriptions
from shared.bus.relay import OutboxRelay
from shared.bus.tables import OutboxMessage
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.events import EventEnvelope, EventPayload
from shared.testing import rabbitmqctl
from shared.tests.integration.support import (
    PROVINCE,
    Effect,
    effects,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration

EVENTS = 200
BURST = 10  # events committed back to back, so the relay publishes batches, not single rows
PAUSE_SECONDS = 0.1  # between bursts: the stream lasts ~2-3 s, longer than rabbitmqctl takes to act
CUT_AFTER = 30  # applied events before the cut is ordered
HANDLER_SECONDS = 0.01  # each event holds its transaction a while, so some are in flight at the cut
DEADLINE_SECONDS = 60


class StreamedThing(EventPayload):
    event_type = "testing.streamed_thing.happened"

    n: int


async def when_streamed_thing_happened_record_effect(
    event: StreamedThing, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    uow.session.add(Effect(event_id=meta.id, n=event.n, note="streamed"))
    await asyncio.sleep(HANDLER_SECONDS)


async def effects_at_least(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> bool:
    return len(await effects(sessionmaker)) >= count


async def unsent(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
        return int(count or 0)


async def test_reconnect__connection_cut_mid_stream_applies_every_event_once(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], vhost: str
) -> None:
    reconnected = asyncio.Event()

    def on_reconnect(*_: Any) -> None:
        reconnected.set()

    amqp.reconnect_callbacks.add(on_reconnect)
    subs = Subscriptions()
    subs.on(StreamedThing)(when_streamed_thing_happened_record_effect)
    queue = unique_queue("events")
    # Relay and consumer share one connection, as in a service process (shared/service.py).
    await start_consumer(amqp, sessionmaker, queue, subscriptions=subs)
    relay = OutboxRelay(sessionmaker, amqp, batch=20)
    origin = EventOrigin("testing", PROVINCE, on_commit=relay.wake)
    relay_task = asyncio.create_task(relay.run_forever())

    async def stream() -> None:
        for n in range(EVENTS):
            async with UnitOfWork(sessionmaker, origin) as uow:
                uow.emit(StreamedThing(n=n))
                await uow.commit()
            if n % BURST == BURST - 1:
                await asyncio.sleep(PAUSE_SECONDS)

    async def cut_midway() -> str:
        await wait_for(
            lambda: effects_at_least(sessionmaker, CUT_AFTER), within=30, what="the stream to start"
        )
        return await asyncio.to_thread(
            rabbitmqctl, "close_all_connections", "-p", vhost, "test: cut mid-stream"
        )

    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the other
            cut = group.create_task(cut_midway())
            group.create_task(stream())
        closed = cut.result()
        assert closed.startswith("Closed ") and not closed.startswith("Closed 0"), closed
        try:
            await wait_for(
                lambda: effects_at_least(sessionmaker, EVENTS),
                within=DEADLINE_SECONDS,
                what=f"all {EVENTS} events to be applied after the cut",
            )
        except AssertionError as exc:
            rows = await effects(sessionmaker)
            raise AssertionError(
                f"{exc}: {len(rows)} rows ({len({r.n for r in rows})} distinct events) applied, "
                f"{await unsent(sessionmaker)} events still in the outbox, reconnected={reconnected.is_set()}"
            ) from None
        # Let any redelivery still in flight land, so a late duplicate cannot slip past.
        await asyncio.sleep(0.5)
    finally:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task

    assert reconnected.is_set(), "the connection was never cut, so nothing was tested"
    rows = await effects(sessionmaker)
    assert sorted(r.n for r in rows) == list(range(EVENTS)), "an event was lost or applied twice"
    assert await unsent(sessionmaker) == 0
