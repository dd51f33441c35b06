"""Event contracts: the versioned envelope and one payload model per event type and version.

Payload models live in ``shared/events/<producer>.py`` (see docs/adr/0002-event-contracts.md).
"""

from shared.events.envelope import EventEnvelope, EventPayload, payload_model

__all__ = ["EventEnvelope", "EventPayload", "payload_model"]
