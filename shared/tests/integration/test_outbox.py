"""The transactional outbox: an event leaves only if its transaction commits, and a relay that
dies between the broker's confirm and marking the row sent makes a duplicate the inbox absorbs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustConnection
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.relay import OutboxRelay
from shared.bus.tables import OutboxMessage
from shared.bus.topology import declare_partner_queue, partner_queue_name
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.faults import CRASH_EXIT_CODE
from shared.signing import ED25519, Signer, TrustedKey, TrustStore
from shared.tests.integration.support import (
    PARTNER,
    PROVINCE,
    Effect,
    ThingHappened,
    consumed,
    drain_probe,
    effects,
    inbox_count,
    probe_queue,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
KEY = ThingHappened.event_type


async def outbox_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))).all())


async def test_outbox__rolled_back_unit_of_work_publishes_nothing(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], origin: EventOrigin
) -> None:
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)

    async with UnitOfWork(sessionmaker, origin) as uow:
        uow.session.add(Effect(n=1, note="rolled back"))
        uow.emit(ThingHappened(n=1))
        # leaving without commit() is the rollback

    with pytest.raises(RuntimeError):
        async with UnitOfWork(sessionmaker, origin) as uow:
            uow.session.add(Effect(n=2, note="failed request"))
            uow.emit(ThingHappened(n=2))
            await uow.session.flush()  # the rows reached the database before the failure
            raise RuntimeError("the request failed after writing")

    assert await outbox_rows(sessionmaker) == []
    assert await effects(sessionmaker) == []
    assert await OutboxRelay(sessionmaker, amqp).publish_pending() == 0
    assert await drain_probe(channel, probe, KEY) == []


async def test_outbox__committed_event_is_published_once_and_marked(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], origin: EventOrigin
) -> None:
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)
    async with UnitOfWork(sessionmaker, origin) as uow:
        uow.session.add(Effect(n=3, note="committed"))
        sent = uow.emit(ThingHappened(n=3), subject="student-3")
        await uow.commit()

    relay = OutboxRelay(sessionmaker, amqp)
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0  # marked: a second pass sends nothing again

    received = await drain_probe(channel, probe, KEY)
    assert [m.message_id for m in received] == [str(sent.id)]
    assert received[0].body == sent.to_bytes()
    [row] = await outbox_rows(sessionmaker)
    assert row.id == sent.id
    assert row.published_at is not None
    assert [e.n for e in await effects(sessionmaker)] == [3]


async def test_outbox__a_batch_leaves_in_outbox_order_and_is_marked_at_once(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], origin: EventOrigin
) -> None:
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)
    for first in (0, 120, 240):
        async with UnitOfWork(sessionmaker, origin) as uow:
            for n in range(first, first + 120):
                uow.emit(ThingHappened(n=n), subject=f"student-{n}")
            await uow.commit()

    relay = OutboxRelay(sessionmaker, amqp, batch=100)
    counts = [await relay.publish_pending() for _ in range(5)]

    assert counts == [100, 100, 100, 60, 0]
    async with sessionmaker() as session:
        in_order = (
            await session.scalars(
                select(OutboxMessage.id).order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        ).all()
    received = await drain_probe(channel, probe, KEY)
    assert [m.message_id for m in received] == [str(i) for i in in_order]
    assert all(row.published_at is not None for row in await outbox_rows(sessionmaker))


async def test_outbox__a_row_committed_below_the_relays_floor__still_leaves(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], origin: EventOrigin
) -> None:
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)
    relay = OutboxRelay(sessionmaker, amqp, full_scan_seconds=0.5)
    async with UnitOfWork(sessionmaker, origin) as uow:
        uow.emit(ThingHappened(n=1))
        await uow.commit()
    assert await relay.publish_pending() == 1  # the relay now looks from about this row on

    # A transaction that began an hour ago commits now: its row sorts far below that floor.
    async with UnitOfWork(sessionmaker, origin) as uow:
        late = uow.emit(ThingHappened(n=2))
        await uow.commit()
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == late.id)
            .values(created_at=func.now() - timedelta(hours=1))
        )

    async def late_published() -> bool:
        await relay.publish_pending()
        return all(row.published_at is not None for row in await outbox_rows(sessionmaker))

    await wait_for(late_published, within=10, what="the late row to be published")
    received = await drain_probe(channel, probe, KEY)
    assert [m.message_id for m in received].count(str(late.id)) == 1


async def test_outbox__partner_event_leaves_signed_for_the_partner(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    signer = Signer(PROVINCE, f"{PROVINCE}-k1", Ed25519PrivateKey.generate())
    origin = EventOrigin("testing", PROVINCE, signer)
    channel = await amqp.channel()
    await declare_partner_queue(channel, PARTNER)
    async with UnitOfWork(sessionmaker, origin) as uow:
        sent = uow.emit(ThingHappened(n=11), to_province=PARTNER)
        await uow.commit()

    assert await OutboxRelay(sessionmaker, amqp).publish_pending() == 1

    waiting = await channel.declare_queue(partner_queue_name(PARTNER), passive=True)
    message = await waiting.get(no_ack=True, fail=False, timeout=5)
    assert message is not None, "the partner event is not waiting in the partner queue"
    assert message.routing_key == f"{PARTNER}.{KEY}"
    assert message.body == sent.to_bytes()
    # What the partner province will check when the shovel has carried it over.
    partner_trust = TrustStore({signer.key_id: TrustedKey(PROVINCE, ED25519, signer.key.public_key())})
    partner_trust.verify(
        dict(message.headers or {}), message.body, my_province=PARTNER, claimed_province=PROVINCE
    )


async def test_outbox__unroutable_partner_event_stays_without_holding_up_the_rest(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    signer = Signer(PROVINCE, f"{PROVINCE}-k1", Ed25519PrivateKey.generate())
    origin = EventOrigin("testing", PROVINCE, signer)
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)
    async with UnitOfWork(sessionmaker, origin) as uow:
        stuck = uow.emit(ThingHappened(n=12), to_province="99")  # no queue for a partner 99
        await uow.commit()
    async with UnitOfWork(sessionmaker, origin) as uow:
        behind = uow.emit(ThingHappened(n=13))
        await uow.commit()

    relay = OutboxRelay(sessionmaker, amqp, batch=1)  # the unroutable event fills a whole batch
    assert await relay.publish_pending() == 0
    assert await relay.publish_pending() == 1

    assert [m.message_id for m in await drain_probe(channel, probe, KEY)] == [str(behind.id)]
    published = {row.id: row.published_at for row in await outbox_rows(sessionmaker)}
    assert published[stuck.id] is None, "an undelivered event must stay in the outbox"
    assert published[behind.id] is not None


def run_relay_process(db_url: str, bus_url: str, *, crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XUEJI_PROVINCE": PROVINCE,
        "XUEJI_DATABASE_URL": db_url,
        "XUEJI_AMQP_URL": bus_url,
    }
    env.pop("XUEJI_CRASH_AT", None)
    if crash_at is not None:
        env["XUEJI_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shared.tests.integration.relay_once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_outbox__relay_dying_after_confirm_duplicates_but_effect_applies_once(
    amqp: AbstractRobustConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
    origin: EventOrigin,
    db_url: str,
    bus_url: str,
) -> None:
    channel = await amqp.channel()
    probe = await probe_queue(channel, KEY)
    queue = unique_queue("crash")
    await start_consumer(amqp, sessionmaker, queue)
    async with UnitOfWork(sessionmaker, origin) as uow:
        sent = uow.emit(ThingHappened(n=7, note="survives a relay crash"))
        await uow.commit()

    crashed = await asyncio.to_thread(run_relay_process, db_url, bus_url, crash_at="relay.after_publish")
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr
    [row] = await outbox_rows(sessionmaker)
    assert row.published_at is None, "the crashed relay must not have marked the row"

    restarted = await asyncio.to_thread(run_relay_process, db_url, bus_url, crash_at=None)
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip() == "1"
    [row] = await outbox_rows(sessionmaker)
    assert row.published_at is not None

    on_broker = await drain_probe(channel, probe, KEY)
    assert [m.message_id for m in on_broker] == [str(sent.id)] * 2, "the crash should have left a duplicate"

    async def both_seen() -> bool:
        return consumed(queue, KEY, "applied") + consumed(queue, KEY, "duplicate") >= 2

    await wait_for(both_seen, within=15, what="the consumer to take both copies")
    assert consumed(queue, KEY, "applied") == 1
    assert consumed(queue, KEY, "duplicate") == 1
    assert [(e.event_id, e.n) for e in await effects(sessionmaker)] == [(sent.id, 7)]
    assert await inbox_count(sessionmaker, queue) == 1
