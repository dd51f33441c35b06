"""The versioned event envelope every message on the bus carries, and the payload registry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from uuid6 import uuid7

EVENT_TYPE_PATTERN = r"^[a-z]+(\.[a-z_]+)+$"


class EventPayload(BaseModel):
    """Base of every event's ``data``. Subclasses set ``event_type`` and ``event_version``.

    Consumers ignore fields they don't know (``extra="ignore"``) so a producer can add fields
    without a new version; removing or changing a field needs a new version.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    _registry: ClassVar[dict[tuple[str, int], type[EventPayload]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            key = (cls.event_type, cls.event_version)
            if key in EventPayload._registry:
                raise TypeError(f"event {key} is defined twice")
            EventPayload._registry[key] = cls


def payload_model(event_type: str, version: int) -> type[EventPayload] | None:
    """The payload class registered for a type and version, if any."""
    return EventPayload._registry.get((event_type, version))


class EventEnvelope(BaseModel):
    """What travels on the bus: metadata plus the payload as ``data``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID = Field(default_factory=uuid7, description="time-ordered (UUIDv7)")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=120)
    version: int = Field(ge=1, le=1000)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = Field(min_length=1, max_length=40, description="producing service")
    province: str = Field(pattern=r"^[0-9]{2}$", description="producing province, GB/T 2260")
    subject: str | None = Field(None, max_length=200, description="the thing it is about, e.g. a student id")
    correlation_id: UUID | None = Field(None, description="the business process, e.g. a transfer")
    causation_id: UUID | None = Field(None, description="the event that caused this one")
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        source: str,
        province: str,
        subject: str | None = None,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> EventEnvelope:
        return cls(
            type=payload.event_type,
            version=payload.event_version,
            source=source,
            province=province,
            subject=subject,
            correlation_id=correlation_id,
            causation_id=causation_id,
            data=payload.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> EventEnvelope:
        return cls.model_validate_json(body)
