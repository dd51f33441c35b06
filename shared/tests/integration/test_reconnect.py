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


async def where_events_are(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """For a failed wait: how many were applied and how many never left the outbox."""
    rows = await effects(sessionmaker)
    return (
        f"{len(rows)} rows ({len({r.n for r in rows})} distinct events) applied, "
        f"{await unsent(sessionmaker)} events still in the outbox"
    )


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
            raise AssertionError(
                f"{exc}: {await where_events_are(sessionmaker)}, reconnected={reconnected.is_set()}"
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


CLOSED_UNDER_CONFIRMS_EVENTS = 3000
CONFIRM_SECONDS = 3.0  # the relay's own 20 s would make the test wait that long


async def _close_when_confirms_are_pending(amqp: AbstractRobustConnection) -> None:
    """Close the connection the moment a channel on it waits for publisher confirms, with
    aiormq's own default reason (CancelledError), as it does with a connection it finds stuck."""
    connection = amqp.transport.connection if amqp.transport else None
    while connection is None or not any(  # aiormq's channels keep their unconfirmed publishes
        getattr(channel, "confirmations", None) for channel in connection.channels.values()
    ):
        await asyncio.sleep(0)
        connection = amqp.transport.connection if amqp.transport else None
    await connection.close()


async def test_relay__connection_closed_under_its_pending_confirms_keeps_relaying(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Two ways this left a live process with a dead relay, each seen here before the fix: some
    confirms of the batch never resolve, and the round waited on them forever; others fail
    with CancelledError, which ended the relay's task. Either way the outbox only grew (a
    cross-province chaos run once lost every event of one province after the broker restart).
    The relay gives up on confirms after ``confirm_seconds`` with a new channel, and takes a
    CancelledError it did not ask for as a broker failure (shared/cancellation.py)."""
    subs = Subscriptions()
    subs.on(StreamedThing)(when_streamed_thing_happened_record_effect)
    await start_consumer(amqp, sessionmaker, unique_queue("events"), subscriptions=subs)
    origin = EventOrigin("testing", PROVINCE)
    for first in range(0, CLOSED_UNDER_CONFIRMS_EVENTS, 500):
        async with UnitOfWork(sessionmaker, origin) as uow:
            for n in range(first, first + 500):
                uow.emit(StreamedThing(n=n))
            await uow.commit()
    # Big batches: the confirms of one are pending for tens of milliseconds, time to close under them.
    relay = OutboxRelay(sessionmaker, amqp, batch=1000, confirm_seconds=CONFIRM_SECONDS)
    closer = asyncio.create_task(_close_when_confirms_are_pending(amqp))
    relay.start()
    try:
        await asyncio.wait_for(closer, timeout=30)
        try:
            await wait_for(
                lambda: effects_at_least(sessionmaker, CLOSED_UNDER_CONFIRMS_EVENTS),
                within=DEADLINE_SECONDS,
                what=f"all {CLOSED_UNDER_CONFIRMS_EVENTS} events applied after the close",
            )
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}: {await where_events_are(sessionmaker)}, relay running: {relay.running}, "
                f"connected: {amqp.connected.is_set()}"
            ) from None
        await asyncio.sleep(0.5)  # a late redelivery would show up as a second effect
    finally:
        await relay.stop(grace=2)
    rows = await effects(sessionmaker)
    assert sorted(r.n for r in rows) == list(range(CLOSED_UNDER_CONFIRMS_EVENTS)), "lost or applied twice"
    assert await unsent(sessionmaker) == 0
