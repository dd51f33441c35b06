"""What the bench watches while the load runs: the backlog at each stage, once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import aio_pika
import asyncpg

FACE_QUEUE = "identity.face_checks"


@dataclass
class Sample:
    at: float
    outbox_unpublished: int
    awaiting_face: int
    face_queue: int
    decided: int


@dataclass
class Monitor:
    dsn: str
    amqp_url: str
    samples: list[Sample] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, started: float) -> None:
        connection = await asyncpg.connect(self.dsn)
        amqp = await aio_pika.connect(self.amqp_url)
        try:
            channel = await amqp.channel()
            while not self._stop.is_set():
                row = await connection.fetchrow(
                    "SELECT (SELECT count(*) FROM outbox_message WHERE published_at IS NULL) AS outbox, "
                    "(SELECT count(*) FROM check_in WHERE state = 'awaiting_face') AS awaiting, "
                    "(SELECT count(*) FROM check_in WHERE state = 'decided') AS decided"
                )
                face_queue = 0
                try:
                    queue = await channel.declare_queue(FACE_QUEUE, passive=True)
                    face_queue = queue.declaration_result.message_count or 0
                except aio_pika.exceptions.ChannelClosed:
                    channel = await amqp.channel()  # no face workers declared it: nothing queued
                assert row is not None
                self.samples.append(
                    Sample(
                        time.perf_counter() - started,
                        row["outbox"],
                        row["awaiting"],
                        face_queue,
                        row["decided"],
                    )
                )
                with contextlib.suppress(TimeoutError):  # a second without a stop: next sample
                    await asyncio.wait_for(self._stop.wait(), timeout=1.0)
        finally:
            await amqp.close()
            await connection.close()

    def stop(self) -> None:
        self._stop.set()

    def table(self, every: int = 1) -> str:
        lines = ["     t s   outbox  awaiting-face  face-queue    decided"]
        for sample in self.samples[::every]:
            lines.append(
                f"  {sample.at:6.1f} {sample.outbox_unpublished:8d} {sample.awaiting_face:14d} "
                f"{sample.face_queue:11d} {sample.decided:10d}"
            )
        return "\n".join(lines)
