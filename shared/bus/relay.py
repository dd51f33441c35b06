"""The outbox relay: publishes committed events with publisher confirms, then marks them sent.

At-least-once: a crash between the confirm and the mark publishes the event again on restart,
and the consumers' inbox absorbs the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.tables import OutboxMessage
from shared.faults import crash_point
from shared.metrics import EVENTS_PUBLISHED, RELAY_LAG
from shared.telemetry import ATTR_EVENT_ID, ATTR_EVENT_TYPE, suppress_instrumentation

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.outbox")

IDLE_POLL_SECONDS = 0.5
RETRY_SECONDS = 1.0
# An event the broker returns as unroutable (no queue for that partner) stays in the outbox, but
# is skipped for a while: otherwise a batch full of them would be retried forever at the head
# of the queue and every event behind them would wait. Bounded, so the query stays small.
HOLD_UNROUTABLE_SECONDS = 30.0
MAX_HELD = 1000


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        connection: AbstractRobustConnection,
        *,
        batch: int = 100,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connection = connection
        self._batch = batch
        self._wakeup = asyncio.Event()
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._held: dict[UUID, float] = {}  # unroutable row id -> monotonic time to retry it

    def wake(self) -> None:
        """Called after a local commit that wrote events, so they leave without waiting a poll."""
        self._wakeup.set()

    async def run_forever(self) -> None:
        while True:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Broker or database unavailable: the rows stay unpublished; try again shortly.
                log.warning("outbox relay: publishing failed, will retry", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if published < self._batch:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), IDLE_POLL_SECONDS)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; return how many were published."""
        with suppress_instrumentation():  # polling is not part of anybody's trace
            now_mono = time.monotonic()
            self._held = {row_id: until for row_id, until in self._held.items() if until > now_mono}
            async with self._sessionmaker() as session, session.begin():
                rows = (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.published_at.is_(None))
                        .where(OutboxMessage.id.not_in(list(self._held)))
                        .order_by(OutboxMessage.created_at, OutboxMessage.id)
                        .limit(self._batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                if not rows:
                    return 0
                published = [row for row in rows if await self._publish(row)]
                crash_point("relay.after_publish")
                if published:
                    now = datetime.now(UTC)
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_([row.id for row in published]))
                        .values(published_at=now)
                    )
                    for row in published:
                        RELAY_LAG.observe((now - row.created_at).total_seconds())
                return len(published)

    async def _publish(self, row: OutboxMessage) -> bool:
        exchange = await self._exchange(row.exchange)
        # Continue the trace of the transaction that wrote the row, not the relay's own.
        token = otel_context.attach(propagate.extract(row.headers, context=otel_context.Context()))
        try:
            with tracer.start_as_current_span(
                f"outbox publish {row.event_type}",
                kind=trace.SpanKind.INTERNAL,
                attributes={ATTR_EVENT_TYPE: row.event_type, ATTR_EVENT_ID: str(row.id)},
            ):
                message = aio_pika.Message(
                    body=row.body,
                    headers=dict(row.headers),
                    message_id=str(row.id),
                    type=row.event_type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    timestamp=row.created_at,
                )
                await exchange.publish(message, routing_key=row.routing_key, mandatory=row.mandatory)
        except DeliveryError as exc:
            # Returned as unroutable (no partner queue) or nacked: keep it and report; the rest go on.
            log.error("outbox relay: %s %s not delivered: %s", row.event_type, row.id, exc)
            if len(self._held) < MAX_HELD:
                self._held[row.id] = time.monotonic() + HOLD_UNROUTABLE_SECONDS
            return False
        finally:
            otel_context.detach(token)
        EVENTS_PUBLISHED.labels(row.event_type).inc()
        return True

    async def _exchange(self, name: str) -> AbstractExchange:
        if self._channel is None or self._channel.is_closed:
            self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchanges.clear()
        if name not in self._exchanges:
            self._exchanges[name] = await self._channel.get_exchange(name, ensure=True)
        return self._exchanges[name]
