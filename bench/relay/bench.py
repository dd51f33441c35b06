"""Outbox relay throughput: events/s from committed outbox rows to broker confirms and marked rows.

    python -m bench.relay [--events 20000] [--batch 100]

On a shared machine the wall-clock rate moves with the load; the CPU the process spent per
event (the span export thread included) does not, and is printed too. A fresh database (outbox
tables only) and virtual host; ``--events`` events are committed in units of work of
``--per-transaction`` (an import's batch of 500 rows writes 1,000), then one relay publishes
until the outbox is empty. Tracing is on as in a service (spans to files, aio-pika
instrumented), since every publish continues the trace of the transaction that wrote its row.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import aio_pika
import asyncpg
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from sqlalchemy import create_engine

from shared.bus.relay import OutboxRelay
from shared.bus.tables import MessagingBase
from shared.bus.topology import EVENTS_EXCHANGE, declare_exchanges
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.db import make_engine, make_sessionmaker
from shared.events import EventPayload
from shared.telemetry import setup_tracing
from shared.testing import temporary_database, temporary_vhost


class BenchEventHappened(EventPayload):
    event_type = "bench.event.happened"

    n: int
    note: str = "学籍 benchmark payload of a typical size for a registration summary" * 4


async def _run(
    db_url: str, amqp_url: str, events: int, batch: int, hold_snapshot: bool, per_transaction: int
) -> None:
    engine = make_engine(db_url)
    holder = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql"))
    if hold_snapshot:
        # A long report query elsewhere on the server: vacuum cannot remove what the relay marks.
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT txid_current()")
    sessionmaker = make_sessionmaker(engine)
    amqp = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await amqp.channel()
        await declare_exchanges(channel)
        # A quorum queue, as every consumer and partner queue of XueJi is (shared/bus/topology.py):
        # its confirms wait for the Raft log's fsync, which is what a relay batch waits on.
        queue = await channel.declare_queue(
            "bench-relay-sink", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(EVENTS_EXCHANGE, routing_key=BenchEventHappened.event_type)
        origin = EventOrigin("bench", "41")
        for first in range(0, events, per_transaction):
            async with UnitOfWork(sessionmaker, origin) as uow:
                for n in range(first, min(events, first + per_transaction)):
                    uow.emit(BenchEventHappened(n=n), subject=f"s-{n}")
                await uow.commit()
        relay = OutboxRelay(sessionmaker, amqp, batch=batch)
        started, cpu_started = time.perf_counter(), time.process_time()
        published = 0
        while (count := await relay.publish_pending()) > 0:
            published += count
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rate = published / elapsed
        print(
            f"relay, batch {batch}: {published:,} events in {elapsed:.1f} s = {rate:,.0f} events/s; "
            f"this process's CPU {cpu * 1e6 / published:.0f} µs per event (load-independent)"
        )
        queued = (await queue.declare()).message_count
        if queued != events:
            raise RuntimeError(f"the broker holds {queued} of {events} events")
    finally:
        await holder.close()
        await amqp.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100, help="rows per relay transaction")
    parser.add_argument("--per-transaction", type=int, default=500, help="events per unit of work written")
    parser.add_argument(
        "--hold-snapshot", action="store_true", help="keep a transaction open meanwhile (a long report query)"
    )
    args = parser.parse_args()
    setup_tracing("bench-relay", "41", Path(tempfile.mkdtemp(prefix="xueji-relay-traces-")))
    AioPikaInstrumentor().instrument()
    with temporary_database() as db_url, temporary_vhost() as amqp_url:
        engine = create_engine(db_url.replace("+asyncpg", "+psycopg"))
        try:
            MessagingBase.metadata.create_all(engine)
        finally:
            engine.dispose()
        asyncio.run(_run(db_url, amqp_url, args.events, args.batch, args.hold_snapshot, args.per_transaction))
