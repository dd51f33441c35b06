"""The unit of work: one database transaction holding a state change and the events it causes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast
from uuid import UUID

from opentelemetry import propagate
from sqlalchemy import Table
from sqlalchemy import insert as sql_insert
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


# The table itself: ``emit_many``'s rows are plain values, the ORM's bulk path would only add
# a cost per row.
_OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class Emission:
    """One event for ``UnitOfWork.emit_many``: the payload, its subject, a partner province."""

    payload: EventPayload
    subject: str | None = None
    to_province: str | None = None


def _trace() -> dict[str, str]:
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


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

    @property
    def province(self) -> str:
        """The province this process serves (a partner's events name the sender, not us)."""
        return self._origin.province

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
        envelope, row = self._outbox_row(Emission(payload, subject, to_province), correlation_id, _trace())
        self.session.add(OutboxMessage(**row))
        return envelope

    async def emit_many(self, emissions: Iterable[Emission]) -> list[EventEnvelope]:
        """``emit`` for many events at once, written now as one multi-row INSERT: an import's
        batch emits a thousand, where an ORM object each cost more than the events themselves.
        The trace context is the same for all of them, so it is taken once."""
        trace_headers = _trace()
        written = [self._outbox_row(e, None, trace_headers) for e in emissions]
        if written:
            # Core's insert, not the PostgreSQL dialect's: SQLAlchemy caches the compiled form
            # of the former only (the dialect's Insert sets ``inherit_cache = False``), and
            # compiling it again cost every call — every accepted check-in — a tenth of a ms.
            await self.session.execute(sql_insert(_OUTBOX), [row for _, row in written])
        return [envelope for envelope, _ in written]

    def _outbox_row(
        self, emission: Emission, correlation_id: UUID | None, trace_headers: dict[str, str]
    ) -> tuple[EventEnvelope, dict[str, Any]]:
        cause = self._cause
        envelope = EventEnvelope.wrap(
            emission.payload,
            source=self._origin.service,
            province=self._origin.province,
            subject=emission.subject,
            correlation_id=correlation_id or (cause.correlation_id if cause else None),
            causation_id=cause.id if cause else None,
        )
        body = envelope.to_bytes()
        headers = dict(trace_headers)
        if emission.to_province is None:
            exchange, routing_key, mandatory = EVENTS_EXCHANGE, envelope.type, False
        else:
            if self._origin.signer is None:
                raise RuntimeError("this process has no signing key for inter-province events")
            exchange, mandatory = INTERPROVINCE_OUT, True
            routing_key = interprovince_routing_key(emission.to_province, envelope.type)
            headers.update(self._origin.signer.headers_for(emission.to_province, body))
        self.emitted.append(envelope)
        row = {
            "id": envelope.id,
            "event_type": envelope.type,
            "exchange": exchange,
            "routing_key": routing_key,
            "body": body,
            "headers": headers,
            "mandatory": mandatory,
        }
        return envelope, row

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
