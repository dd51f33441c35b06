"""What the bus integration tests share: a table the handlers write their effects to, the test
event types and handlers, and waits that always end. The servers are never stood in for."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from prometheus_client import REGISTRY
from sqlalchemy import Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.consumer import EventConsumer, Subscriptions
from shared.bus.tables import InboxMessage
from shared.bus.topology import EVENTS_EXCHANGE
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.events import EventEnvelope, EventPayload
from shared.signing import TrustStore

PROVINCE = "41"
PARTNER = "37"
DELIVERY_LIMIT = 3


class EffectBase(DeclarativeBase):
    pass


class Effect(EffectBase):
    """A state change made by a handler (or a request). No unique key on ``event_id`` on purpose:
    a second application of the same event must show up as a second row."""

    __tablename__ = "bus_effect"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[UUID | None]
    n: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")


class ThingHappened(EventPayload):
    event_type = "testing.thing.happened"

    n: int
    note: str = ""


class PoisonArrived(EventPayload):
    event_type = "testing.poison.arrived"

    reason: str


async def when_thing_happened_record_effect(
    event: ThingHappened, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    uow.session.add(Effect(event_id=meta.id, n=event.n, note=event.note))


async def when_poison_arrived_fail(event: PoisonArrived, meta: EventEnvelope, uow: UnitOfWork) -> None:
    # Write first, so a handler that raises after a write is shown to leave nothing behind.
    uow.session.add(Effect(event_id=meta.id, n=-1, note="poison"))
    raise RuntimeError(f"poison pill: {event.reason}")


def local_subscriptions() -> Subscriptions:
    subs = Subscriptions()
    subs.on(ThingHappened)(when_thing_happened_record_effect)
    subs.on(PoisonArrived)(when_poison_arrived_fail)
    return subs


def partner_subscriptions() -> Subscriptions:
    subs = Subscriptions()
    subs.on_partner(ThingHappened)(when_thing_happened_record_effect)
    return subs


async def start_consumer(
    connection: AbstractRobustConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue_name: str,
    *,
    trust: TrustStore | None = None,
    subscriptions: Subscriptions | None = None,
    prefetch: int = 32,
) -> EventConsumer:
    """An ``EventConsumer`` wired the way ``shared.service`` wires one, on its own channel."""
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    subs = subscriptions or (partner_subscriptions() if trust is not None else local_subscriptions())
    consumer = EventConsumer(
        queue_name=queue_name,
        subscriptions=subs.partner if trust is not None else subs.local,
        sessionmaker=sessionmaker,
        origin=EventOrigin("testing", PROVINCE),
        delivery_limit=DELIVERY_LIMIT,
        trust=trust,
    )
    await consumer.start(channel)
    return consumer


def envelope_of(payload: EventPayload, *, province: str = PROVINCE) -> EventEnvelope:
    return EventEnvelope.wrap(payload, source="testing", province=province)


async def publish(
    channel: AbstractChannel,
    body: bytes,
    *,
    routing_key: str,
    exchange: str = EVENTS_EXCHANGE,
    message_id: str | None = None,
    event_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Publish raw bytes (with confirms when the channel has them), as a broken or hostile
    producer might."""
    target = channel.default_exchange if exchange == "" else await channel.get_exchange(exchange)
    await target.publish(
        aio_pika.Message(
            body=body,
            headers=dict(headers or {}),
            message_id=message_id,
            type=event_type,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=routing_key,
    )


async def publish_envelope(
    channel: AbstractChannel,
    envelope: EventEnvelope,
    *,
    routing_key: str | None = None,
    exchange: str = EVENTS_EXCHANGE,
) -> None:
    await publish(
        channel,
        envelope.to_bytes(),
        routing_key=routing_key or envelope.type,
        exchange=exchange,
        message_id=str(envelope.id),
        event_type=envelope.type,
    )


async def wait_for(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def effects(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Effect]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Effect).order_by(Effect.id))).all())


async def inbox_count(sessionmaker: async_sessionmaker[AsyncSession], consumer: str) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.consumer == consumer)
        )
        return int(count or 0)


def consumed(queue: str, event_type: str, outcome: str) -> int:
    """The consumer's own count of messages by outcome (its Prometheus counter)."""
    value = REGISTRY.get_sample_value(
        "xueji_events_consumed_total", {"consumer": queue, "event_type": event_type, "outcome": outcome}
    )
    return int(value or 0)


async def probe_queue(channel: AbstractChannel, routing_key: str) -> AbstractQueue:
    """A private queue that keeps a copy of every message routed with ``routing_key``."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(EVENTS_EXCHANGE, routing_key=routing_key)
    return queue


async def drain_probe(
    channel: AbstractChannel, queue: AbstractQueue, routing_key: str, *, within: float = 10
) -> list[AbstractIncomingMessage]:
    """Everything in ``queue`` so far: a sentinel is published behind it (confirmed, so it is
    queued after anything confirmed earlier) and the queue is read up to the sentinel."""
    sentinel = f"sentinel-{uuid.uuid4()}"
    await publish(channel, b"{}", routing_key=routing_key, message_id=sentinel)
    seen: list[AbstractIncomingMessage] = []
    deadline = time.monotonic() + within
    while True:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the sentinel never reached {queue.name} within {within:g} s")
            await asyncio.sleep(0.05)
        elif message.message_id == sentinel:
            return seen
        else:
            seen.append(message)


async def dead_letters(
    channel: AbstractChannel, queue_name: str, *, count: int, within: float = 20
) -> list[AbstractIncomingMessage]:
    """Read ``count`` messages from ``<queue_name>.dlq``, failing if they do not all arrive."""
    dlq = await channel.declare_queue(f"{queue_name}.dlq", passive=True)
    found: list[AbstractIncomingMessage] = []
    deadline = time.monotonic() + within
    while len(found) < count:
        message = await dlq.get(no_ack=True, fail=False)
        if message is not None:
            found.append(message)
        elif time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} of {count} dead letters reached {dlq.name} within {within:g} s"
            )
        else:
            await asyncio.sleep(0.05)
    return found


def unique_queue(purpose: str) -> str:
    """``<consumer>.<purpose>`` as the services name queues, unique so metrics don't mix."""
    return f"testing-{uuid.uuid4().hex[:8]}.{purpose}"
