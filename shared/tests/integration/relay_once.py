"""``python -m shared.tests.integration.relay_once``: one outbox relay pass in its own process.

Reads ``XUEJI_DATABASE_URL`` and ``XUEJI_AMQP_URL`` (and the usual ``XUEJI_*``) like a service
does. With ``XUEJI_CRASH_AT=relay.after_publish`` it dies after the broker confirmed the
publish and before the rows are marked sent: the one place a real crash makes duplicates.
"""

from __future__ import annotations

import asyncio

import aio_pika

from shared.bus.relay import OutboxRelay
from shared.db import make_engine, make_sessionmaker
from shared.settings import Settings


async def relay_once() -> int:
    settings = Settings(service="relay-test")  # the rest comes from XUEJI_*
    engine = make_engine(settings.database_url, pool_size=1)
    connection = await aio_pika.connect_robust(
        settings.amqp_url, client_properties={"connection_name": "relay-once"}
    )
    try:
        return await OutboxRelay(make_sessionmaker(engine), connection).publish_pending()
    finally:
        await connection.close()
        await engine.dispose()


if __name__ == "__main__":
    print(asyncio.run(relay_once()))
