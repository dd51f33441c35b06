"""Device public keys (Ed25519) that sign a student's check-ins (issue 4, item 2). One live key
per student; a shared phone holds one key per student account on it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, LargeBinary, func
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models.base import Base


class DeviceKey(Base):
    __tablename__ = "device_key"

    account_id: Mapped[UUID] = mapped_column(ForeignKey("account.id"), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # raw 32 bytes
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    replaced_count: Mapped[int] = mapped_column(server_default="0")
