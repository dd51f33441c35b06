"""Inbox-backed consumers: typed handlers, idempotent effects, dead letters that keep the reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.relay import CONFIRM_SECONDS
from shared.bus.topology import (
    EVENTS_EXCHANGE,
    INTERPROVINCE_IN,
    dead_letter_queue_name,
    declare_consumer_queue,
    interprovince_routing_key,
)
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.events import EventEnvelope, EventPayload, payload_model
from shared.metrics import EVENTS_CONSUMED
from shared.signing import TrustStore, UntrustedEvent
from shared.telemetry import (
    ATTR_CONSUMER,
    ATTR_EVENT_ID,
    ATTR_EVENT_OUTCOME,
    ATTR_EVENT_TYPE,
    ATTR_FROM_PROVINCE,
)

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.bus")

DEAD_REASON_HEADER = "x-xueji-dead-reason"
DEAD_CONSUMER_HEADER = "x-xueji-dead-consumer"
DEAD_ATTEMPTS_HEADER = "x-xueji-dead-attempts"
DEAD_AT_HEADER = "x-xueji-dead-at"
CANCELLED_HANDLER_SECONDS = 0.5

P = TypeVar("P", bound=EventPayload)
Handler = Callable[[Any, EventEnvelope, UnitOfWork], Awaitable[None]]


class RejectedMessage(Exception):
    """A message that can never be applied (malformed, forged, unknown): dead-letter it now."""


@dataclass(frozen=True)
class Subscription:
    payload_type: type[EventPayload]
    handler: Handler


class Subscriptions:
    """A service's event handlers: ``@subs.on(StudentRegistered)`` for this province's events,
    ``@subs.on_partner(CaseForwarded)`` for events a partner province sends us (signed)."""

    def __init__(self) -> None:
        self.local: dict[str, Subscription] = {}
        self.partner: dict[str, Subscription] = {}

    def on(self, payload_type: type[P]) -> Callable[[Handler], Handler]:
        return self._register(self.local, payload_type)

    def on_partner(self, payload_type: type[P]) -> Callable[[Handler], Handler]:
        return self._register(self.partner, payload_type)

    @staticmethod
    def _register(table: dict[str, Subscription], payload_type: type[P]) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            if payload_type.event_type in table:
                raise ValueError(f"two handlers for {payload_type.event_type}")
            table[payload_type.event_type] = Subscription(payload_type, handler)
            return handler

        return decorator


class EventConsumer:
    """One queue, its bindings and its handlers.

    Per message: decode the envelope (and verify the signature for partner events), claim the
    inbox row and run the handler in one unit of work, then ack. Failures are retried up to
    ``delivery_limit`` attempts; then the message goes to ``<queue>.dlq`` with the reason.
    """

    def __init__(
        self,
        *,
        queue_name: str,
        subscriptions: dict[str, Subscription],
        sessionmaker: async_sessionmaker[AsyncSession],
        origin: EventOrigin,
        delivery_limit: int,
        trust: TrustStore | None = None,
    ) -> None:
        self.queue_name = queue_name
        self._subscriptions = subscriptions
        self._sessionmaker = sessionmaker
        self._origin = origin
        self._delivery_limit = delivery_limit
        self._trust = trust  # set for partner queues: every message must carry a valid signature
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def start(self, channel: AbstractChannel) -> None:
        self._channel = channel
        queue = await declare_subscription_queue(
            channel,
            self.queue_name,
            self._subscriptions,
            province=self._origin.province,
            from_partners=self._trust is not None,
        )
        # A callback consumer, not ``queue.iterator()``: only callbacks continue the producer's
        # trace under the aio-pika instrumentation (STACK.md).
        self._queue = queue
        self._consumer_tag = await queue.consume(self._on_message_tracked)

    async def stop(self, grace: float) -> None:
        """Take no more messages, and give the ones being handled ``grace`` seconds to finish.
        One still running after that is cancelled: its unit of work rolls back and, never
        acked, the message is redelivered once the channel closes."""
        try:
            async with asyncio.timeout(grace):
                if self._queue is not None and self._consumer_tag is not None:
                    await self._queue.cancel(self._consumer_tag)
                if self._in_flight:
                    await asyncio.wait(list(self._in_flight))
        except TimeoutError:
            log.warning(
                "%s: %d message(s) still being handled at stop", self.queue_name, len(self._in_flight)
            )
        except Exception:
            # The channel is already gone: nothing more arrives, nothing left can be acked.
            log.warning("%s: cancelling the consumer failed", self.queue_name, exc_info=True)
        finally:
            self._consumer_tag = None
            unfinished = list(self._in_flight)
            for task in unfinished:
                task.cancel()
            if unfinished:
                # Long enough for their transactions to roll back before the pool is closed.
                await asyncio.wait(unfinished, timeout=CANCELLED_HANDLER_SECONDS)

    async def _on_message_tracked(self, message: AbstractIncomingMessage) -> None:
        # aio-pika runs each delivery in a task of its own; the set lets ``stop`` wait for them.
        task = asyncio.current_task()
        if task is None:
            await self.on_message(message)
            return
        self._in_flight.add(task)
        try:
            await self.on_message(message)
        finally:
            self._in_flight.discard(task)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        event_type = message.type or "unknown"
        with tracer.start_as_current_span(
            f"consume {event_type}",
            attributes={ATTR_CONSUMER: self.queue_name, ATTR_EVENT_TYPE: event_type},
        ) as span:
            try:
                envelope, subscription, payload = self._decode(message)
            except RejectedMessage as exc:
                await self._dead_letter(message, str(exc), attempts=1)
                span.set_attribute(ATTR_EVENT_OUTCOME, "dead_lettered")
                # Counted too, or an alert on dead letters misses forged partner events. The label
                # is a type this queue reads or "unknown", never what a bad message claims
                # (unbounded label values would swamp Prometheus).
                label = event_type if event_type in self._subscriptions else "unknown"
                EVENTS_CONSUMED.labels(self.queue_name, label, "dead_lettered").inc()
                return
            span.set_attribute(ATTR_EVENT_ID, str(envelope.id))
            span.set_attribute(ATTR_FROM_PROVINCE, envelope.province)
            try:
                outcome = await self._apply(envelope, subscription, payload)
            except Exception as exc:
                attempts = _delivery_count(message) + 1
                if attempts >= self._delivery_limit:
                    reason = f"handler failed {attempts} times; last error: {type(exc).__name__}: {exc}"
                    await self._dead_letter(message, reason[:1000], attempts=attempts)
                    outcome = "dead_lettered"
                else:
                    log.warning(
                        "%s: %s failed (attempt %d), will retry", self.queue_name, event_type, attempts
                    )
                    # Back off before handing it back: a requeue is redelivered at once, and the
                    # usual cause (an event that must arrive first is still on its way) needs time.
                    await asyncio.sleep(retry_delay(attempts))
                    await message.nack(requeue=True)
                    outcome = "retried"
                span.record_exception(exc)
            else:
                await message.ack()
            span.set_attribute(ATTR_EVENT_OUTCOME, outcome)
            EVENTS_CONSUMED.labels(self.queue_name, envelope.type, outcome).inc()

    def _decode(self, message: AbstractIncomingMessage) -> tuple[EventEnvelope, Subscription, EventPayload]:
        try:
            envelope = EventEnvelope.from_bytes(message.body)
        except ValidationError as exc:
            raise RejectedMessage(f"malformed envelope: {_first_error(exc)}") from exc
        if self._trust is not None:
            try:
                self._trust.verify(
                    dict(message.headers or {}),
                    message.body,
                    my_province=self._origin.province,
                    claimed_province=envelope.province,
                )
            except UntrustedEvent as exc:
                raise RejectedMessage(f"untrusted inter-province event: {exc.reason}") from exc
        subscription = self._subscriptions.get(envelope.type)
        if subscription is None or payload_model(envelope.type, envelope.version) is None:
            raise RejectedMessage(f"no handler for {envelope.type} v{envelope.version}")
        if subscription.payload_type.event_version != envelope.version:
            raise RejectedMessage(
                f"{envelope.type} v{envelope.version} is not the version this consumer reads"
            )
        try:
            payload = subscription.payload_type.model_validate(envelope.data)
        except ValidationError as exc:
            raise RejectedMessage(f"malformed {envelope.type} payload: {_first_error(exc)}") from exc
        return envelope, subscription, payload

    async def _apply(self, envelope: EventEnvelope, subscription: Subscription, payload: EventPayload) -> str:
        async with UnitOfWork(self._sessionmaker, self._origin, cause=envelope) as uow:
            if not await uow.claim_inbox(self.queue_name, envelope):
                return "duplicate"
            await subscription.handler(payload, envelope, uow)
            await uow.commit()
        return "applied"

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str, *, attempts: int) -> None:
        assert self._channel is not None
        log.error("%s: dead-lettering %s: %s", self.queue_name, message.message_id, reason)
        headers = dict(message.headers or {})
        headers.update(
            {
                DEAD_REASON_HEADER: reason,
                DEAD_CONSUMER_HEADER: self.queue_name,
                DEAD_ATTEMPTS_HEADER: attempts,
                DEAD_AT_HEADER: datetime.now(UTC).isoformat(),
            }
        )
        await self._channel.default_exchange.publish(
            aio_pika.Message(
                body=message.body,
                headers=headers,
                message_id=message.message_id,
                type=message.type,
                content_type=message.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=dead_letter_queue_name(self.queue_name),
            # Never confirmed: not acked either, so the message comes back once the channel does.
            timeout=CONFIRM_SECONDS,
        )
        await message.ack()


def consumer_queue_names(service: str) -> tuple[str, str]:
    """(local events queue, partner events queue) of a service."""
    return f"{service}.events", f"{service}.interprovince"


async def declare_subscription_queue(
    channel: AbstractChannel,
    queue_name: str,
    subscriptions: dict[str, Subscription],
    *,
    province: str,
    from_partners: bool,
) -> AbstractQueue:
    """A consumer's queue with a binding per subscribed event type (idempotent)."""
    queue, _ = await declare_consumer_queue(channel, queue_name)
    for event_type in subscriptions:
        if from_partners:
            await queue.bind(INTERPROVINCE_IN, routing_key=interprovince_routing_key(province, event_type))
        else:
            await queue.bind(EVENTS_EXCHANGE, routing_key=event_type)
    return queue


async def declare_service_queues(
    channel: AbstractChannel, service: str, subs: Subscriptions, province: str
) -> None:
    """Every queue and binding a service consumes from. Deploy runs this for all services before
    any of them starts: an event published while its consumer's queue does not exist yet would be
    dropped by the topic exchange (e.g. enrollment announcing seeded schools at start)."""
    local_queue, partner_queue = consumer_queue_names(service)
    if subs.local:
        await declare_subscription_queue(
            channel, local_queue, subs.local, province=province, from_partners=False
        )
    if subs.partner:
        await declare_subscription_queue(
            channel, partner_queue, subs.partner, province=province, from_partners=True
        )


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the n-th failed attempt: 0.5, 1, 2, 4, then 8 at most."""
    return float(min(0.5 * 2 ** (attempts - 1), 8.0))


def _delivery_count(message: AbstractIncomingMessage) -> int:
    """Earlier deliveries of this message, as the quorum queue counts them."""
    value = (message.headers or {}).get("x-delivery-count", 0)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(part) for part in err["loc"]) or "(body)"
    return f"{field}: {err['msg']}"
