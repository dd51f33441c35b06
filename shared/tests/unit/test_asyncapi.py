"""The published inter-province protocol (docs/asyncapi/interprovince.yaml): generated from the
code, structurally AsyncAPI 3.0, and covering every event a service reads from a partner."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.local.layout import SERVICES
from shared.bus.consumer import Subscriptions
from shared.contracts import protocol_document
from shared.events.asyncapi import (
    DOCUMENT_PATH,
    REGENERATE_COMMAND,
    build_document,
    message_id,
    render,
)
from shared.events.interprovince import INTERPROVINCE_EVENT_TYPES, INTERPROVINCE_PAYLOADS

# AsyncAPI 3.0: the keys of components, channels and operations.
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")


def _partner_subscriptions() -> dict[str, dict[str, int]]:
    """Per service: the partner event types its handlers read, with the version."""
    tables: dict[str, dict[str, int]] = {}
    for service in SERVICES:
        subs = importlib.import_module(f"services.{service}.handlers").subscriptions
        assert isinstance(subs, Subscriptions)
        tables[service] = {t: s.payload_type.event_version for t, s in subs.partner.items()}
    return tables


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} points at nothing ({part!r} missing)"
        node = node[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document__is_what_the_generator_writes() -> None:
    committed = DOCUMENT_PATH.read_text(encoding="utf-8")
    assert committed == render(build_document()), (
        f"{DOCUMENT_PATH} is out of date with the event models: run `{REGENERATE_COMMAND}` and commit it"
    )


def test_document__has_the_required_asyncapi_3_fields() -> None:
    doc = protocol_document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    for name, server in doc["servers"].items():
        assert server.get("host") and server.get("protocol") == "amqp", name
        for variable in re.findall(r"{(\w+)}", server["host"] + server.get("pathname", "")):
            assert variable in server.get("variables", {}), f"server {name} variable {variable}"
    for section in ("channels", "operations"):
        for key in doc[section]:
            assert COMPONENT_KEY.match(key), f"{section} key {key!r}"
    for section, entries in doc["components"].items():
        for key in entries:
            assert COMPONENT_KEY.match(key), f"components/{section} key {key!r}"


def test_document__every_reference_resolves() -> None:
    doc = protocol_document()
    refs = set(_refs(doc))
    assert refs
    for ref in refs:
        _resolve(doc, ref)


def test_document__operations_use_only_their_channels_messages() -> None:
    doc = protocol_document()
    for name, operation in doc["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel_ref = operation["channel"]["$ref"]
        _resolve(doc, channel_ref)
        assert operation["messages"], name
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel_ref}/messages/"), f"{name}: {message['$ref']}"
        reply = operation.get("reply")
        if reply is not None:
            assert operation["action"] == "receive", f"{name}: only a receiver answers"
            reply_channel = reply["channel"]["$ref"]
            for message in reply["messages"]:
                assert message["$ref"].startswith(f"{reply_channel}/messages/"), f"{name}: {message['$ref']}"


def test_document__each_listed_event_is_sent_and_received() -> None:
    doc = protocol_document()
    for payload in INTERPROVINCE_PAYLOADS:
        mid = message_id(payload)
        assert mid in doc["components"]["messages"], mid
        assert doc["operations"][f"send.{mid}"]["action"] == "send"
        assert doc["operations"][f"receive.{mid}"]["action"] == "receive"
        data_schema = _resolve(doc, f"#/components/schemas/{payload.__name__}")
        assert set(payload.model_fields) == set(data_schema["properties"]), mid


def test_document__answers_are_published_messages() -> None:
    doc = protocol_document()
    replies = {
        op["messages"][0]["$ref"].rsplit("/", 1)[1]: [
            m["$ref"].rsplit("/", 1)[1] for m in op["reply"]["messages"]
        ]
        for op in doc["operations"].values()
        if "reply" in op
    }
    # What the issue names explicitly: the answer each question gets.
    assert replies["transfer.case.opened.v1"] == ["transfer.case.checked.v1"]
    assert replies["transfer.case.cancel_requested.v1"] == ["transfer.case.step.v1"]
    assert replies["transfer.lookup.requested.v1"] == ["enrollment.lookup.answered.v1"]
    assert replies["enrollment.record.released.v1"] == ["transfer.case.step.v1"]
    assert replies["enrollment.id_digest.announced.v1"] == ["enrollment.duplicate.found.v1"]


def test_envelope_schema__requires_id_for_deduplication() -> None:
    envelope = protocol_document()["components"]["schemas"]["EventEnvelope"]
    assert {"id", "type", "version", "occurred_at", "source", "province", "data"} <= set(envelope["required"])
    assert not {"subject", "correlation_id", "causation_id"} & set(envelope["required"])


def test_every_partner_subscription__is_in_the_protocol() -> None:
    """A type a service reads from partners but the document leaves out would be one a province
    running another system could never learn to send."""
    published = set(protocol_document()["components"]["messages"])
    missing = {
        f"{service}: {event_type} v{version}"
        for service, table in _partner_subscriptions().items()
        for event_type, version in table.items()
        if event_type not in INTERPROVINCE_EVENT_TYPES or f"{event_type}.v{version}" not in published
    }
    assert not missing, f"read from partners but not published: {sorted(missing)}"


@pytest.mark.parametrize("event_type", sorted(INTERPROVINCE_EVENT_TYPES))
def test_interprovince_event__has_a_receiver(event_type: str) -> None:
    """A published event no service reads would end in the receiving province's unrouted queue."""
    readers = [s for s, table in _partner_subscriptions().items() if event_type in table]
    assert readers, f"{event_type} is published but no service subscribes to it with on_partner"
