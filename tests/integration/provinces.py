"""Provinces for the partner tests without their fifteen service processes: each province's
virtual host, keys and partner registry as ``deploy/local`` provisions them, and at a receiving
province the real ``EventConsumer`` with the real trust store, its inbox in a real database.

Senders publish signed events as the outbox relay does (``xueji.interprovince.out``, routing
key ``<to>.<event type>``); shovels carry them to the partners.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from deploy.local.layout import AMQP_SERVER, Deployment
from shared.bus.consumer import EventConsumer
from shared.bus.tables import MessagingBase
from shared.bus.topology import (
    INTERPROVINCE_IN,
    INTERPROVINCE_OUT,
    declare_exchanges,
    declare_partner_queue,
    interprovince_routing_key,
)
from shared.bus.unit_of_work import EventOrigin
from shared.db import make_engine, make_sessionmaker
from shared.events import EventEnvelope
from shared.signing import Signer, TrustStore
from shared.testing import rabbitmqctl
from shared.tests.integration.support import (
    Effect,
    EffectBase,
    ThingHappened,
    dead_letters,
    effects,
    inbox_count,
    partner_subscriptions,
)

# Shovels reach partners over the network, as across real provinces: a direct in-broker
# connection (``amqp:///vhost``) ignores vhost permissions, which is how a test takes one down.
NETWORK_BROKER_URI = "amqp://guest:guest@127.0.0.1:5672/{vhost}"


def partner_deployment(name: str, provinces: tuple[str, ...], root: Path) -> Deployment:
    return Deployment(name=name, provinces=provinces, root=root, broker_uri_template=NETWORK_BROKER_URI)


def amqp_url(deployment: Deployment, province: str) -> str:
    return f"{AMQP_SERVER}/{deployment.vhost(province)}"


async def declare_province(deployment: Deployment, province: str) -> None:
    """What ``deploy.local.provision.declare_topologies`` declares, less the service queues."""
    connection = await aio_pika.connect(amqp_url(deployment, province))
    async with connection:
        channel = await connection.channel()
        await declare_exchanges(channel)
        for partner in deployment.partners(province):
            await declare_partner_queue(channel, partner)


def create_tables(db_url: str) -> None:
    engine = create_engine(db_url.replace("+asyncpg", "+psycopg"))
    try:
        MessagingBase.metadata.create_all(engine)
        EffectBase.metadata.create_all(engine)
    finally:
        engine.dispose()


@dataclass
class Receiver:
    """One province's consumer of partner events, stoppable and restartable (the province
    going down and coming back); its inbox and effects survive in its database."""

    deployment: Deployment
    province: str
    db_url: str
    queue_name: str = field(default_factory=lambda: f"testing-{uuid.uuid4().hex[:8]}.interprovince")
    trust: TrustStore | None = None
    engine: AsyncEngine | None = None
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        if self.engine is None:
            self.engine = make_engine(self.db_url, pool_size=3)
            self.sessionmaker = make_sessionmaker(self.engine)
            self.trust = TrustStore.from_registry(self.deployment.partners_file(self.province))
        assert self.sessionmaker is not None
        self.connection = await aio_pika.connect_robust(amqp_url(self.deployment, self.province))
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=16)
        consumer = EventConsumer(
            queue_name=self.queue_name,
            subscriptions=partner_subscriptions().partner,
            sessionmaker=self.sessionmaker,
            origin=EventOrigin("testing", self.province),
            delivery_limit=3,
            trust=self.trust,
        )
        await consumer.start(channel)

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None

    async def close(self) -> None:
        await self.stop()
        if self.engine is not None:
            await self.engine.dispose()

    async def effects(self) -> list[Effect]:
        assert self.sessionmaker is not None
        return await effects(self.sessionmaker)

    async def inbox_count(self) -> int:
        assert self.sessionmaker is not None
        return await inbox_count(self.sessionmaker, self.queue_name)


def signed_event(signer: Signer, to: str, n: int) -> tuple[EventEnvelope, bytes, dict[str, str]]:
    envelope = EventEnvelope.wrap(ThingHappened(n=n), source="testing", province=signer.province)
    body = envelope.to_bytes()
    return envelope, body, signer.headers_for(to, body)


async def publish_signed(
    channel: AbstractChannel,
    envelope: EventEnvelope,
    body: bytes,
    headers: dict[str, str],
    *,
    to: str,
    outgoing: bool,
) -> None:
    """As the sender's relay publishes (``outgoing``), or as a shovel delivers at the partner."""
    exchange = await channel.get_exchange(INTERPROVINCE_OUT if outgoing else INTERPROVINCE_IN)
    await exchange.publish(
        aio_pika.Message(
            body=body,
            headers=dict(headers),
            message_id=str(envelope.id),
            type=envelope.type,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=interprovince_routing_key(to, envelope.type),
    )


async def dead_letter(channel: AbstractChannel, queue_name: str, message_id: str) -> AbstractIncomingMessage:
    """The dead letter of one message, waiting for it (other dead letters are set aside)."""
    while True:
        (found,) = await dead_letters(channel, queue_name, count=1)
        if found.message_id == message_id:
            return found


def take_down(deployment: Deployment, province: str) -> None:
    """The province's broker stops answering: its connections drop and new ones are refused."""
    vhost = deployment.vhost(province)
    rabbitmqctl("clear_permissions", "-p", vhost, "guest")
    rabbitmqctl("close_all_connections", "-p", vhost, "partner province down (test)")


def bring_back(deployment: Deployment, province: str) -> None:
    rabbitmqctl("set_permissions", "-p", deployment.vhost(province), "guest", ".*", ".*", ".*")
