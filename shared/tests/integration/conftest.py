"""Fixtures for the bus against the real RabbitMQ and PostgreSQL: every test gets its own
virtual host and database, removed afterwards even when the test fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.tables import MessagingBase
from shared.bus.topology import declare_exchanges
from shared.bus.unit_of_work import EventOrigin
from shared.db import make_engine, make_sessionmaker
from shared.testing import temporary_database, temporary_vhost
from shared.tests.integration.support import PROVINCE, EffectBase


@pytest.fixture
def bus_url() -> Iterator[str]:
    with temporary_vhost() as url:
        yield url


@pytest.fixture
def vhost(bus_url: str) -> str:
    return bus_url.rsplit("/", 1)[1]


@pytest.fixture
def db_url() -> Iterator[str]:
    with temporary_database() as url:
        # Outbox and inbox exactly as the services' first migrations create them, plus the
        # table the test handlers write to; no Alembic needed for that.
        engine = create_engine(url.replace("+asyncpg", "+psycopg"))
        try:
            MessagingBase.metadata.create_all(engine)
            EffectBase.metadata.create_all(engine)
        finally:
            engine.dispose()
        yield url


@pytest.fixture
async def sessionmaker(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url, pool_size=5)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def amqp(bus_url: str) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(bus_url, client_properties={"connection_name": "bus-test"})
    try:
        channel = await connection.channel()
        await declare_exchanges(channel)
        await channel.close()
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def origin() -> EventOrigin:
    return EventOrigin("testing", PROVINCE)
