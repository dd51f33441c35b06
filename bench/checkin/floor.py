"""The floor, measured in the same run: what accepting a check-in costs at the least — one bare
INSERT of the same row and one bare publish (persistent, confirmed) of an event of the same
size, with the same concurrency as the clients. No HTTP, no auth, no rules."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg

FLOOR_QUEUE = "bench.floor"

_INSERT = """INSERT INTO floor_check_in (id, round_id, student_id, school_code, received_at, latitude,
longitude, accuracy_m, crs, device_id, emulator, mock_location, rooted, selfie_sha256, face_required,
state, result, reasons, decided_at)
VALUES ($1, $2, $3, $4, $5, 34.7, 113.5, 12.0, 'WGS-84', $6, false, false, false, $7, false, 'decided',
'normal', '[]', $5)"""


async def floor_rate(dsn: str, amqp_url: str, round_id: str, count: int, concurrency: int) -> float:
    """Bare INSERT + bare publish per item; returns items per second."""
    pool = await asyncpg.create_pool(dsn, min_size=min(concurrency, 20), max_size=min(concurrency, 20))
    connection = await aio_pika.connect(amqp_url)
    try:
        async with pool.acquire() as setup:
            await setup.execute(
                "CREATE TABLE IF NOT EXISTS floor_check_in "
                "(LIKE check_in INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(FLOOR_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        exchange = channel.default_exchange
        remaining = list(range(count))

        async def worker() -> None:
            while remaining:
                n = remaining.pop()
                check_in_id = uuid.uuid4()
                now = datetime.now(UTC)
                await pool.execute(
                    _INSERT, check_in_id, uuid.UUID(round_id), f"floor-{n}", "4141000001", now,
                    f"device-{n}", f"{n:064x}",
                )  # fmt: skip
                body = json.dumps(
                    {
                        "event_id": str(uuid.uuid4()),
                        "event_type": "checkin.check_in.decided",
                        "data": {"check_in_id": str(check_in_id), "round_id": round_id, "result": "normal"},
                        "occurred_at": now.isoformat(),
                    }
                ).encode()
                await exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=FLOOR_QUEUE,
                )

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)
    finally:
        await connection.close()
        await pool.close()
