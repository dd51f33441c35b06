"""The unit of work: one database transaction holding a state change and the events it causes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from uuid import UUID

from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.tables import InboxMessage, OutboxMessage
from shared.bus.topology import EVENTS_EXCHANGE, INTERPROVINCE_OUT, interprovince_routing_key
from shared.events import EventEnvelope, EventPayload
from shared.signing import Signer


@dataclass(frozen=True)
class EventOrigin:
    """Who writes the events of this process, and how the relay is woken after a commit."""

    service: str
    province: str
    signer: Signer | None = None
    on_commit: Callable[[], None] | None = None


class UnitOfWork:
    """``async with UnitOfWork(...) as uow:`` … ``uow.emit(...)`` … ``await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, events included.
    """

    session: AsyncSession

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        origin: EventOrigin,
        *,
        cause: EventEnvelope | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._origin = origin
        self._cause = cause
        self._committed = False
        self.emitted: list[EventEnvelope] = []

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(
        self,
        payload: EventPayload,
        *,
        subject: str | None = None,
        correlation_id: UUID | None = None,
        to_province: str | None = None,
    ) -> EventEnvelope:
        """Write an event to the outbox; it is published only if this unit of work commits.

        The current trace context is stored with the row so the relay publishes inside it.
        ``to_province`` addresses a partner province: the event is signed and leaves through
        the inter-province exchange.
        """
        cause = self._cause
        envelope = EventEnvelope.wrap(
            payload,
            source=self._origin.service,
            province=self._origin.province,
            subject=subject,
            correlation_id=correlation_id or (cause.correlation_id if cause else None),
            causation_id=cause.id if cause else None,
        )
        body = envelope.to_bytes()
        headers: dict[str, str] = {}
        propagate.inject(headers)
        if to_province is None:
            exchange, routing_key, mandatory = EVENTS_EXCHANGE, envelope.type, False
        else:
            if self._origin.signer is None:
                raise RuntimeError("this process has no signing key for inter-province events")
            exchange, mandatory = INTERPROVINCE_OUT, True
            routing_key = interprovince_routing_key(to_province, envelope.type)
            headers.update(self._origin.signer.headers_for(to_province, body))
        self.session.add(
            OutboxMessage(
                id=envelope.id,
                event_type=envelope.type,
                exchange=exchange,
                routing_key=routing_key,
                body=body,
                headers=headers,
                mandatory=mandatory,
            )
        )
        self.emitted.append(envelope)
        return envelope

    async def claim_inbox(self, consumer: str, envelope: EventEnvelope) -> bool:
        """Record that ``consumer`` applies this event; False when it already has (a redelivery)."""
        inserted = await self.session.execute(
            insert(InboxMessage)
            .values(consumer=consumer, event_id=envelope.id, event_type=envelope.type)
            .on_conflict_do_nothing()
            .returning(InboxMessage.event_id)
        )
        return inserted.first() is not None

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True
        if self.emitted and self._origin.on_commit is not None:
            self._origin.on_commit()
