"""Outbox and inbox tables. Every service's database has both (its first migration creates them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from alembic.operations import Operations
from sqlalchemy import DateTime, Index, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class MessagingBase(DeclarativeBase):
    pass


class OutboxMessage(MessagingBase):
    """An event written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox_message"

    id: Mapped[UUID] = mapped_column(primary_key=True)  # the event id
    event_type: Mapped[str] = mapped_column(String(120))
    exchange: Mapped[str] = mapped_column(String(120))
    routing_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # AMQP headers: trace context of the writing transaction, signature headers for partners.
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    mandatory: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("outbox_message_unpublished", "created_at", postgresql_where=text("published_at IS NULL")),
    )


class InboxMessage(MessagingBase):
    """An event a consumer has applied; its key makes a redelivery a no-op."""

    __tablename__ = "inbox_message"

    consumer: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[UUID] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def create_messaging_tables(op: Operations) -> None:
    """Called from each service's first migration so the tables are identical everywhere."""
    bind = op.get_bind()
    MessagingBase.metadata.create_all(bind)


def drop_messaging_tables(op: Operations) -> None:
    MessagingBase.metadata.drop_all(op.get_bind())
