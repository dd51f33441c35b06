"""The outbox relay: publishes committed events with publisher confirms, then marks them sent.

At-least-once: a crash between the confirm and the mark publishes the event again on restart,
and the consumers' inbox absorbs the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.tables import OutboxMessage
from shared.cancellation import cancelled_by_its_owner
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
# How long a publish waits for the broker's confirm. Confirms come in milliseconds, seconds
# under load; a connection closed under pending confirms can leave some that never resolve
# (aiormq 7.2, shared/tests/integration/test_reconnect.py), and a round waiting on them waits
# forever while the process looks healthy. Past this the channel is dropped and the batch retried.
CONFIRM_SECONDS = 20.0
MAX_HELD = 1000
# Where a round starts looking. A published row stays in the partial index of unpublished rows
# as a dead entry until vacuum can remove it, and vacuum cannot while any snapshot older than
# the update is open anywhere on the server; an index scan from the beginning then walks over
# every event published since, ~0.6 µs each: 60 ms a round after a 100,000-row import, and
# slower with every round. So a round scans from a floor: the oldest unpublished row the last
# round saw, less a margin. created_at is the writing transaction's start, so a transaction
# that runs longer than the margin can commit rows below the floor: a full scan every
# FULL_SCAN_SECONDS finds those (published a few seconds later, never lost). The margin is
# short because everything between it and the floor is walked over again every round (an
# import writes ~2,500 events a second).
FLOOR_MARGIN = timedelta(seconds=2)
FULL_SCAN_SECONDS = 5.0


class OutboxRelay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        connection: AbstractRobustConnection,
        *,
        batch: int = 100,
        full_scan_seconds: float = FULL_SCAN_SECONDS,
        confirm_seconds: float = CONFIRM_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._connection = connection
        self._batch = batch
        self._wakeup = asyncio.Event()
        self._channel: AbstractChannel | None = None
        self._exchanges_checked: set[str] = set()  # on the current channel
        self._held: dict[UUID, float] = {}  # unroutable row id -> monotonic time to retry it
        self._floor: datetime | None = None  # rounds look at created_at >= this
        self._full_scan_seconds = full_scan_seconds
        self._confirm_seconds = confirm_seconds
        self._full_scan_due = 0.0  # monotonic
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self, name: str = "outbox-relay") -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run_forever(), name=name)
        self._task.add_done_callback(self._report_early_end)

    def _report_early_end(self, task: asyncio.Task[None]) -> None:
        # Nothing else would say it: the process goes on answering while its events stay put.
        if not self._stopping:
            error = None if task.cancelled() else task.exception()
            log.error(
                "outbox relay: stopped before the service did; events stay in the outbox", exc_info=error
            )

    async def stop(self, grace: float) -> None:
        """End the loop after its round, then one last flush of what the last handlers and
        requests committed, all within ``grace`` seconds. Whatever is left stays in the outbox
        for the next process: a cancelled round rolls back, and a row the broker confirmed but
        that was not marked goes out again (the inbox absorbs the repeat)."""
        self._stopping = True
        self._wakeup.set()
        task = self._task
        try:
            async with asyncio.timeout(grace):
                if task is not None:
                    await asyncio.shield(task)
                published = self._batch
                while published >= self._batch:  # a full batch: more may be waiting
                    published = await self.publish_pending()
        except TimeoutError:
            log.warning("outbox relay: not flushed within %.1f s; the rest leaves after restart", grace)
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and cancelled_by_its_owner():
                raise
            log.warning("outbox relay: last flush failed; the rest leaves after restart", exc_info=True)
        finally:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Called after a local commit that wrote events, so they leave without waiting a poll."""
        self._wakeup.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                published = await self.publish_pending()
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and cancelled_by_its_owner():
                    raise
                # Broker or database unavailable: the rows stay unpublished; try again shortly.
                log.warning("outbox relay: publishing failed, will retry", exc_info=True)
                if not self._stopping:
                    await asyncio.sleep(RETRY_SECONDS)
                continue
            if published < self._batch and not self._stopping:
                self._wakeup.clear()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
                # arrives as the event is set, and the service's shutdown then waits forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_SECONDS):
                        await self._wakeup.wait()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; return how many were published."""
        with suppress_instrumentation():  # polling is not part of anybody's trace
            now_mono = time.monotonic()
            self._held = {row_id: until for row_id, until in self._held.items() if until > now_mono}
            full_scan = self._floor is None or now_mono >= self._full_scan_due
            if full_scan:
                self._full_scan_due = now_mono + self._full_scan_seconds
            async with self._sessionmaker() as session, session.begin():
                query = (
                    select(OutboxMessage)
                    .where(OutboxMessage.published_at.is_(None))
                    .where(OutboxMessage.id.not_in(list(self._held)))
                    .order_by(OutboxMessage.created_at, OutboxMessage.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
                if not full_scan:
                    query = query.where(OutboxMessage.created_at >= self._floor)
                rows = (await session.scalars(query)).all()
                if rows:
                    self._floor = rows[0].created_at - FLOOR_MARGIN
                elif full_scan:
                    # Nothing waits: later rounds look only at what is written from now on.
                    database_now: datetime = (await session.execute(select(func.now()))).scalar_one()
                    self._floor = database_now - FLOOR_MARGIN
                if not rows:
                    return 0
                outcomes = await self._publish_all(rows)
                published = [row for row, outcome in zip(rows, outcomes, strict=True) if outcome is True]
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
                failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None:
                # Broker gone mid-batch: what it confirmed is marked (committed above), the
                # rest stays for the next round.
                raise failure
            return len(published)

    async def _publish_all(self, rows: Sequence[OutboxMessage]) -> list[bool | BaseException]:
        """Publish a batch with every confirm in flight at once, rather than one broker round
        trip per event. The rows go out in their order: each publish takes the channel's lock
        without suspending before it (the tasks start in order and the lock is FIFO), so the
        frames reach the broker in the order of the outbox, as one-at-a-time publishing did."""
        async with asyncio.timeout(self._confirm_seconds):  # the same unanswered-broker guard
            await self._open_channel_for({row.exchange for row in rows})
        # Cancelling this task cancels the gather, which then raises; a CancelledError among
        # the outcomes is a publish the closing channel failed (shared/cancellation.py): the
        # round marks what was confirmed and raises it like any other broker failure.
        outcomes = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
        if any(isinstance(outcome, TimeoutError) for outcome in outcomes):
            log.warning(
                "outbox relay: confirms not received within %.0f s; opening a new channel",
                self._confirm_seconds,
            )
            await self._drop_channel()
        return outcomes

    async def _drop_channel(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            with contextlib.suppress(Exception):  # a timeout included
                async with asyncio.timeout(RETRY_SECONDS):
                    await channel.close()

    async def _publish(self, row: OutboxMessage) -> bool:
        # Continue the trace of the transaction that wrote the row, not the relay's own. This span
        # is the message's producer span: its context travels in the message headers, and the
        # aio-pika instrumentation's own "send" span is left out (suppressed) — one span per
        # event instead of two, on a path that publishes hundreds of events a second.
        token = otel_context.attach(propagate.extract(row.headers, context=otel_context.Context()))
        try:
            with tracer.start_as_current_span(
                f"outbox publish {row.event_type}",
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    ATTR_EVENT_TYPE: row.event_type,
                    ATTR_EVENT_ID: str(row.id),
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": f"{row.exchange},{row.routing_key}",
                },
            ):
                headers = dict(row.headers)
                propagate.inject(headers)
                message = aio_pika.Message(
                    body=row.body,
                    headers=headers,
                    message_id=str(row.id),
                    type=row.event_type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    timestamp=row.created_at,
                )
                # Straight to the channel, not waiting for the frame to be written while holding
                # the channel's lock (``wait=False``; the broker's confirm is still awaited): a
                # batch's publishes then all leave in one turn of the event loop, not two turns
                # each — in a process busy answering requests, a turn takes milliseconds and
                # the outbox grew faster than it drained.
                assert self._channel is not None  # opened by _publish_all() before
                # aiormq's own Channel: its abstract base does not declare ``wait``.
                channel = cast(aiormq.Channel, await self._channel.get_underlay_channel())
                with suppress_instrumentation():
                    await channel.basic_publish(
                        row.body,
                        exchange=row.exchange,
                        routing_key=row.routing_key,
                        properties=message.properties,
                        mandatory=row.mandatory,
                        wait=False,
                        timeout=self._confirm_seconds,
                    )
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

    async def _open_channel_for(self, exchanges: set[str]) -> None:
        """(Re)open the publishing channel if needed and check, once per channel, that the
        exchanges exist. Done before a batch's publishes start, which then never suspend before
        taking the channel's lock: that keeps them in the outbox's order."""
        if self._channel is None or self._channel.is_closed:
            self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchanges_checked.clear()
        for name in sorted(exchanges - self._exchanges_checked):
            await self._channel.get_exchange(name, ensure=True)
            self._exchanges_checked.add(name)
