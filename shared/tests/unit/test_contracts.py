"""``assert_matches_protocol``: an outgoing inter-province message is checked against the
published document, and each kind of mismatch is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.bus.topology import interprovince_routing_key
from shared.contracts import assert_matches_protocol
from shared.events import EventEnvelope, EventPayload
from shared.events.enrollment import IdDigestAnnounced, StudentRegistered
from shared.events.transfer import CancelRequested, CaseParty, StudentLookupRequested, TimelineLine
from shared.signing import SIGNATURE_HEADER, Signer

SIGNER = Signer("41", "41-abcdef01", Ed25519PrivateKey.generate())
TO = "37"
REGISTERED_AT = datetime(2026, 11, 27, 2, tzinfo=UTC)
LINE = TimelineLine(
    step_id="s-1",
    action="cancel_requested",
    state_after="applied",
    actor=CaseParty(username="zhang", role="school_admin", org="4101010001", province="41"),
    at="2026-11-27T10:00:00+08:00",
)


def _outgoing(payload: EventPayload) -> tuple[dict[str, Any], dict[str, str], str]:
    """What ``UnitOfWork.emit(..., to_province=TO)`` writes: body, headers, routing key."""
    body = EventEnvelope.wrap(payload, source="transfer", province="41", subject="t-1").to_bytes()
    headers = SIGNER.headers_for(TO, body)
    return json.loads(body), headers, interprovince_routing_key(TO, payload.event_type)


def _failure(envelope: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as caught:
        assert_matches_protocol(envelope, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    "payload",
    [
        CancelRequested(transfer_id="t-1", line=LINE),
        StudentLookupRequested(lookup_id="l-1", student_number="G410101200801010011", student_name="张三"),
        IdDigestAnnounced(digest="a" * 64, student_id="s-1", registered_at=REGISTERED_AT),
    ],
)
def test_assert_matches_protocol__signed_emission_passes(payload: EventPayload) -> None:
    envelope, headers, routing_key = _outgoing(payload)
    assert_matches_protocol(envelope, headers=headers, routing_key=routing_key)


def test_assert_matches_protocol__type_not_published() -> None:
    envelope, _, _ = _outgoing(StudentLookupRequested(lookup_id="l", student_number="n", student_name="x"))
    envelope["type"] = StudentRegistered.event_type
    assert "is not in interprovince.yaml" in _failure(envelope)


def test_assert_matches_protocol__unpublished_version() -> None:
    envelope, _, _ = _outgoing(StudentLookupRequested(lookup_id="l", student_number="n", student_name="x"))
    envelope["version"] = 2
    assert "transfer.lookup.requested v2" in _failure(envelope)


def test_assert_matches_protocol__missing_payload_field_is_named() -> None:
    envelope, _, _ = _outgoing(CancelRequested(transfer_id="t-1", line=LINE))
    del envelope["data"]["line"]["actor"]
    assert "data/line: 'actor' is a required property" in _failure(envelope)


def test_assert_matches_protocol__bad_envelope_field_is_named() -> None:
    envelope, _, _ = _outgoing(CancelRequested(transfer_id="t-1", line=LINE))
    envelope["province"] = "henan"
    del envelope["id"]
    message = _failure(envelope)
    assert "province: 'henan' does not match" in message
    assert "'id' is a required property" in message


def test_assert_matches_protocol__wrong_digest_shape() -> None:
    envelope, _, _ = _outgoing(
        IdDigestAnnounced(digest="a" * 64, student_id="s-1", registered_at=REGISTERED_AT)
    )
    envelope["data"]["digest"] = "not-hex"
    assert "data/digest" in _failure(envelope)


def test_assert_matches_protocol__unsigned_headers() -> None:
    envelope, headers, routing_key = _outgoing(CancelRequested(transfer_id="t-1", line=LINE))
    del headers[SIGNATURE_HEADER]
    message = _failure(envelope, headers=headers, routing_key=routing_key)
    assert f"header (root): '{SIGNATURE_HEADER}' is a required property" in message


def test_assert_matches_protocol__routing_key_must_name_the_receiver() -> None:
    envelope, headers, _ = _outgoing(CancelRequested(transfer_id="t-1", line=LINE))
    wrong = interprovince_routing_key("44", CancelRequested.event_type)
    assert "routing key '44.transfer.case.cancel_requested'" in _failure(
        envelope, headers=headers, routing_key=wrong
    )
