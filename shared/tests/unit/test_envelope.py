"""The event envelope: what goes on the bus comes back the same, and bad metadata is refused."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.events import EventEnvelope, EventPayload, payload_model
from shared.events.envelope import EVENT_TYPE_PATTERN


class UnitThingHappened(EventPayload):
    event_type = "testing.unit_thing.happened"
    event_version = 2

    count: int
    label: str
    maybe: UUID | None = None


def _envelope(**overrides: object) -> EventEnvelope:
    fields: dict[str, object] = {"type": "testing.thing.happened", "version": 1, "source": "testing"}
    fields |= {"province": "41", "data": {}}
    fields |= overrides
    return EventEnvelope.model_validate(fields)


@given(
    count=st.integers(),
    label=st.text(),
    maybe=st.none() | st.uuids(),
    subject=st.none() | st.text(max_size=200),
    correlation_id=st.none() | st.uuids(),
    province=st.from_regex(r"[0-9]{2}", fullmatch=True),
)
def test_envelope__round_trip_keeps_everything(
    count: int,
    label: str,
    maybe: UUID | None,
    subject: str | None,
    correlation_id: UUID | None,
    province: str,
) -> None:
    payload = UnitThingHappened(count=count, label=label, maybe=maybe)
    sent = EventEnvelope.wrap(
        payload, source="enrollment", province=province, subject=subject, correlation_id=correlation_id
    )
    received = EventEnvelope.from_bytes(sent.to_bytes())
    assert received == sent
    assert (received.type, received.version) == ("testing.unit_thing.happened", 2)
    model = payload_model(received.type, received.version)
    assert model is UnitThingHappened
    assert model.model_validate(received.data) == payload


def test_envelope__ids_are_time_ordered() -> None:
    first, second = _envelope(), _envelope()
    assert first.id.version == 7
    assert first.id < second.id


def test_envelope__payload_type_defined_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="defined twice"):

        class Again(EventPayload):  # defining the class is the act under test
            event_type = "testing.unit_thing.happened"
            event_version = 2


def test_envelope__consumers_ignore_unknown_fields() -> None:
    received = EventEnvelope.from_bytes(_envelope().to_bytes().replace(b"{", b'{"added_later":1,', 1))
    assert not hasattr(received, "added_later")
    assert UnitThingHappened.model_validate({"count": 1, "label": "x", "new_field": True}).count == 1


@pytest.mark.parametrize(
    "event_type",
    [
        "",
        "enrollment",
        "Enrollment.student.registered",
        "enrollment..registered",
        "enrollment.student-registered",
        "enrollment.student.registered.",
        ".enrollment.student",
        "enrollment.student2.registered",
        "enrollment.student.registered\n",
        "x." + "a" * 119,
    ],
)
def test_envelope__rejects_bad_type(event_type: str) -> None:
    with pytest.raises(ValidationError, match="type"):
        _envelope(type=event_type)


@given(st.text(max_size=130) | st.from_regex(EVENT_TYPE_PATTERN, fullmatch=True))
def test_envelope__type_accepted_only_when_it_reads_like_an_event(event_type: str) -> None:
    valid = re.fullmatch(EVENT_TYPE_PATTERN, event_type) is not None and len(event_type) <= 120
    try:
        _envelope(type=event_type)
    except ValidationError:
        assert not valid
    else:
        assert valid


@pytest.mark.parametrize("province", ["", "4", "411", "4a", "ab", " 41", "41 ", "41\n"])
def test_envelope__rejects_bad_province(province: str) -> None:
    with pytest.raises(ValidationError, match="province"):
        _envelope(province=province)


@pytest.mark.parametrize("province", ["４１", "٤١"])  # \d would match any Unicode digit
def test_envelope__rejects_non_ascii_digit_province(province: str) -> None:
    with pytest.raises(ValidationError, match="province"):
        _envelope(province=province)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"version": 0}, "version"),
        ({"source": ""}, "source"),
        ({"occurred_at": "2026-11-27T10:00:00"}, "occurred_at"),  # no time zone
        ({"id": "not-a-uuid"}, "id"),
        ({"data": [1, 2]}, "data"),
    ],
)
def test_envelope__rejects_bad_metadata(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _envelope(**overrides)


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe", b"[]", b'{"type": "a.b"}'])
def test_envelope__from_bytes_rejects_what_is_not_an_envelope(body: bytes) -> None:
    with pytest.raises(ValidationError):
        EventEnvelope.from_bytes(body)
