"""Which event payloads cross a province border: the one list the published protocol
(docs/asyncapi/interprovince.yaml), its generator and the contract tests read.

An event type that a service sends with ``uow.emit(..., to_province=...)`` or consumes with
``subscriptions.on_partner(...)`` belongs here; anything else stays inside its province. Adding
a type here is a protocol change: regenerate the document (``python -m shared.events.asyncapi``)
and tell the partner provinces.
"""

from __future__ import annotations

from shared.events.checkin import VerificationSummaryReleased
from shared.events.enrollment import (
    DuplicateFound,
    IdDigestAnnounced,
    ProblemRecordActed,
    ProblemRecordArbitrated,
    RecordReleased,
    StudentLookupAnswered,
)
from shared.events.envelope import EventPayload
from shared.events.transfer import (
    CancelRequested,
    CaseChecked,
    CaseOpened,
    CaseStepTaken,
    StudentLookupRequested,
)

# In the order a reader of the protocol meets them: a transfer, then duplicates across provinces.
INTERPROVINCE_PAYLOADS: tuple[type[EventPayload], ...] = (
    StudentLookupRequested,
    StudentLookupAnswered,
    CaseOpened,
    CaseChecked,
    CaseStepTaken,
    CancelRequested,
    RecordReleased,
    VerificationSummaryReleased,
    IdDigestAnnounced,
    DuplicateFound,
    ProblemRecordActed,
    ProblemRecordArbitrated,
)

INTERPROVINCE_EVENT_TYPES: frozenset[str] = frozenset(p.event_type for p in INTERPROVINCE_PAYLOADS)
