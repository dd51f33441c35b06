"""Helpers for tests against the real servers: uniquely named virtual hosts and databases that
are removed afterwards, free ports, and a service's view of the bus (an event put on the
exchange as another service's relay would, its inbox and outbox rows). Never stand-ins for the
servers themselves."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import aio_pika
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import Principal, Role
from shared.bus.tables import InboxMessage, OutboxMessage
from shared.bus.topology import EVENTS_EXCHANGE
from shared.db import create_database_if_missing, drop_database
from shared.events import EventEnvelope

T = TypeVar("T")

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
AMQP_SERVER = "amqp://guest:guest@127.0.0.1:5672"


def unique_name(prefix: str = "xjt") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


@contextmanager
def temporary_vhost(name: str | None = None) -> Iterator[str]:
    """A fresh virtual host for guest; yields its AMQP URL and deletes it (queues and all) after."""
    vhost = name or unique_name()
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"{AMQP_SERVER}/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


@contextmanager
def temporary_database(name: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database; yields its asyncpg URL and drops it after."""
    url = f"{PG_SERVER}/{name or unique_name()}"
    create_database_if_missing(url)
    try:
        yield url
    finally:
        drop_database(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0) -> T:
    """The probe's first truthy answer; the bus is asynchronous."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s; last answer {result!r}")
        await asyncio.sleep(0.05)


def make_principal(
    role: Role, org: str, province: str, *, student_id: str | None = None, account_id: str | None = None
) -> Principal:
    """A signed-in user of ``role`` at ``org``; a fresh account unless the test names one."""
    return Principal(
        account_id=account_id or unique_name("acct"),
        username=f"{province}-{role.value}",
        role=role,
        org=org,
        province=province,
        student_id=student_id,
    )


# --- the bus, as a service under test sees it ------------------------------------------------


async def publish_message(
    amqp_url: str,
    body: bytes,
    *,
    routing_key: str,
    exchange: str = EVENTS_EXCHANGE,
    headers: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    message_type: str | None = None,
) -> None:
    """Put ``body`` on an exchange of the vhost with the properties the outbox relay sets
    (persistent JSON); the bytes are the caller's, so a test can also relay a captured message
    or a signed partner event unchanged."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange)
        await target.publish(
            aio_pika.Message(
                body=body,
                headers=dict(headers or {}),
                message_id=message_id,
                type=message_type,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
        )


async def publish_event(amqp_url: str, envelope: EventEnvelope) -> EventEnvelope:
    """Put an event on the province's exchange as another service's relay would."""
    await publish_message(
        amqp_url,
        envelope.to_bytes(),
        routing_key=envelope.type,
        message_id=str(envelope.id),
        message_type=envelope.type,
    )
    return envelope


async def wait_until_applied(sessionmaker: async_sessionmaker[AsyncSession], envelope: EventEnvelope) -> None:
    """Wait until a consumer has applied (or skipped as a duplicate) this event: its inbox row
    is committed."""

    async def probe() -> bool:
        async with sessionmaker() as session:
            found = await session.scalar(
                select(InboxMessage.event_id).where(InboxMessage.event_id == envelope.id)
            )
        return found is not None

    await eventually(probe)


async def outbox_rows(sessionmaker: async_sessionmaker[AsyncSession], event_type: str) -> list[OutboxMessage]:
    """The outbox rows of one event type, oldest first (relayed or not)."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
        return list(rows)


async def outbox_events(
    sessionmaker: async_sessionmaker[AsyncSession], event_type: str
) -> list[EventEnvelope]:
    """The events of one type a service wrote, oldest first."""
    return [EventEnvelope.from_bytes(row.body) for row in await outbox_rows(sessionmaker, event_type)]
