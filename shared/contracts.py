"""Checks an inter-province message against the published protocol (docs/asyncapi/interprovince.yaml).

For tests: the committed document is what partner provinces build against, so messages are
checked against that file, not against the models it was generated from. Test-only like its
dependencies (jsonschema, PyYAML: requirements-dev.txt): no service imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.bus.topology import interprovince_routing_key
from shared.events.asyncapi import DOCUMENT_PATH, HEADERS_SCHEMA
from shared.signing import TO_PROVINCE_HEADER

_DOCUMENT_URI = "urn:xueji:asyncapi:interprovince"


@cache
def protocol_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document


@cache
def _registry() -> Registry[Any]:
    # The document is not a JSON Schema, but its schemas are: read as one, "#/..." references
    # inside it resolve against it.
    resource: Resource[Any] = DRAFT202012.create_resource(protocol_document())
    registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
    return registry


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{_DOCUMENT_URI}#{pointer}"},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _problems(validator: Draft202012Validator, instance: object) -> list[str]:
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    )


def assert_matches_protocol(
    envelope_json: Mapping[str, Any],
    *,
    headers: Mapping[str, Any] | None = None,
    routing_key: str | None = None,
) -> None:
    """Raise ``AssertionError`` naming every difference between an outgoing inter-province
    message and the document: its type and version must be published there, the envelope and
    ``data`` must match the message's schema, and, when given, the AMQP headers must carry the
    signature headers and the routing key must be ``<to province>.<type>``."""
    event_type, version = envelope_json.get("type"), envelope_json.get("version")
    message_id = f"{event_type}.v{version}"
    if message_id not in protocol_document()["components"]["messages"]:
        raise AssertionError(
            f"{event_type} v{version} crosses provinces but is not in {DOCUMENT_PATH.name}: list its payload "
            "in shared/events/interprovince.py and regenerate the document"
        )
    problems = _problems(_validator(f"/components/messages/{message_id}/payload"), dict(envelope_json))
    if headers is not None:
        header_problems = _problems(_validator(f"/components/schemas/{HEADERS_SCHEMA}"), dict(headers))
        problems += [f"header {p}" for p in header_problems]
        to_province = headers.get(TO_PROVINCE_HEADER)
        if routing_key is not None and routing_key != interprovince_routing_key(
            str(to_province), str(event_type)
        ):
            problems.append(f"routing key {routing_key!r} is not '<to province {to_province}>.{event_type}'")
    if problems:
        raise AssertionError(f"{message_id} does not match the protocol:\n  " + "\n  ".join(problems))
