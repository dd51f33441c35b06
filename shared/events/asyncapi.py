"""Builds the published inter-province protocol, an AsyncAPI 3.0 document, from the code.

The schemas come from the pydantic models (the envelope and each payload listed in
``shared/events/interprovince.py``), the names from ``shared/bus/topology.py`` and
``shared/signing.py``; only the prose of who sends what and what the receiver must answer is
written here. The committed file is checked against this output by
``shared/tests/unit/test_asyncapi.py``, so the document cannot drift from the code.

Regenerate: ``.venv/bin/python -m shared.events.asyncapi``.

Lives in ``shared/events`` rather than ``deploy/``: it depends on nothing but the event contracts
and the bus names, and the contract tests (``shared/contracts.py``) read what it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared.bus.consumer import DEAD_REASON_HEADER
from shared.bus.topology import (
    DEAD_LETTER_EXCHANGE,
    INTERPROVINCE_IN,
    INTERPROVINCE_OUT,
    INTERPROVINCE_UNROUTED,
    dead_letter_queue_name,
    interprovince_routing_key,
    partner_queue_name,
)
from shared.events.enrollment import DuplicateFound, StudentLookupAnswered
from shared.events.envelope import EventEnvelope, EventPayload
from shared.events.interprovince import INTERPROVINCE_PAYLOADS
from shared.events.transfer import CaseChecked, CaseStepTaken
from shared.signing import ALG_HEADER, ED25519, KEY_ID_HEADER, SIGNATURE_HEADER, TO_PROVINCE_HEADER

ASYNCAPI_VERSION = "3.0.0"
# The protocol's own version: bump the minor for an added event or field, the major when a
# partner running the previous document could no longer take part.
PROTOCOL_VERSION = "1.0.0"
DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi" / "interprovince.yaml"
REGENERATE_COMMAND = ".venv/bin/python -m shared.events.asyncapi"
AMQP_BINDING_VERSION = "0.3.0"
SIGNED_BYTES_PREFIX = "xueji-interprovince-v1\\n"  # shared/signing.py ``_DOMAIN``, as the doc spells it

OUT_CHANNEL = "interprovinceOut"
IN_CHANNEL = "interprovinceIn"
HEADERS_SCHEMA = "InterprovinceHeaders"
ENVELOPE_SCHEMA = "EventEnvelope"


@dataclass(frozen=True)
class Role:
    """One event's place in the conversation between two provinces."""

    sender: str
    receiver: str
    answer: str
    answered_with: tuple[type[EventPayload], ...] = ()


def _roles() -> dict[str, Role]:
    return {
        "transfer.lookup.requested": Role(
            sender="The destination province (转入省), before a school applies: who is this student? "
            "(跨省转学 申请前查询). Sent by its transfer service to the origin province (转出省).",
            receiver="The origin province's student records (学籍) service.",
            answer="Answer with `enrollment.lookup.answered` carrying the same `lookup_id`: `found` and, "
            "only when the name matches the student number, the summary (name, masked ID number, "
            "province, school, grade, status). A number without the matching name learns nothing.",
            answered_with=(StudentLookupAnswered,),
        ),
        "enrollment.lookup.answered": Role(
            sender="The origin province, answering `transfer.lookup.requested`.",
            receiver="The destination province's transfer service, which asked.",
            answer="Nothing to send back. An answer whose `lookup_id` the receiver never asked the "
            "sending province about is ignored.",
        ),
        "transfer.case.opened": Role(
            sender="The destination province (转入省, the applicant's side: the destination school applies, "
            "转入学校发起) after its own review levels, to the origin province (转出省). `chain` lists "
            "every review level in order; `apply_line` is the first line of the case timeline.",
            receiver="The origin province: it opens its copy of the case (each province a case "
            "touches keeps a copy) and checks the student against its records.",
            answer="Answer with `transfer.case.checked`: `ok` and the reasons, and the student's summary "
            "(no birth date) only when the name matches the number. A student who already has an "
            "open case there is answered `ok: false`. The same case arriving twice is answered once.",
            answered_with=(CaseChecked,),
        ),
        "transfer.case.checked": Role(
            sender="The origin province, answering `transfer.case.opened`.",
            receiver="The destination province's transfer service: it records the origin's check on "
            "its copy; a failed check ends the case there.",
            answer="Nothing to send back.",
        ),
        "transfer.case.step": Role(
            sender="The province holding the case (the one whose review level the case waits for; "
            "while the records move, the destination). Only the holder takes a step: approve, "
            "reject, cancel, cancel_refused, expire or records_moved. It appends the line to its "
            "timeline and sends it to the other province.",
            receiver="The other province's transfer service: it replays the line on its copy, so "
            "both timelines read the same (跨省转学查询 shows the same state on both sides).",
            answer="Nothing to send back. A line already on the timeline (same `step_id`) is "
            "ignored; a line the copy cannot take yet (it arrived before the line it follows, or "
            "before the case) is kept and applied after the copy's next change. A line from a "
            "province other than the one that took the step (`line.actor.province`) is refused.",
        ),
        "transfer.case.cancel_requested": Role(
            sender="The applicant's province (撤销, the applicant cancels) when it does not hold the "
            "case; possible until the records have moved.",
            receiver="The province holding the case. It alone decides, so a cancel racing the final "
            "approval that starts the move is settled in one place.",
            answer="Answer with `transfer.case.step` whose line has action `cancel` (the case is "
            "cancelled) or `cancel_refused` (it had already moved on, e.g. to records moving).",
            answered_with=(CaseStepTaken,),
        ),
        "enrollment.record.released": Role(
            sender="The origin province's records service once every review level approved "
            "(自动调档, records move automatically): the full record with its id, number and history.",
            receiver="The destination province's records service: it admits the student into the "
            "destination school and class (a student returning to a province they once left gets "
            "their old record back).",
            answer="The destination's transfer service then sends `transfer.case.step` with action "
            "`records_moved` to the origin. A record already admitted is not admitted twice.",
            answered_with=(CaseStepTaken,),
        ),
        "checkin.verification.summarized": Role(
            sender="The origin province's check-in service, when the student's record is released: "
            "the counts of the student's routine verification (常态化核验) there.",
            receiver="The destination province's records service: it adds the summary to the history "
            "that follows the student (it waits for the record if the summary comes first).",
            answer="Nothing to send back. A summary already in the history is not added twice.",
        ),
        "enrollment.id_digest.announced": Role(
            sender="Every province, to every partner, when it registers a student or corrects an ID "
            "number: the keyed hash (HMAC-SHA-256) of the ID number, never the number itself.",
            receiver="Each partner's records service: it looks for an active record with that digest.",
            answer="If it holds one, it opens a cross-province problem record (问题学籍, 重复学籍) and "
            "answers `enrollment.duplicate.found`; otherwise nothing.",
            answered_with=(DuplicateFound,),
        ),
        "enrollment.duplicate.found": Role(
            sender="A partner that holds an active record with an announced digest.",
            receiver="The province that announced: it opens its own problem record for the student "
            "named by `announced_student_id`, if that record still has the digest; the "
            "later-registered side acts first.",
            answer="Nothing to send back.",
        ),
        "enrollment.problem_record.acted": Role(
            sender="Either side of a cross-province problem record, when it changes its record, "
            "gives evidence or deletes its record.",
            receiver="The counterpart province: its copy of the problem record, found by the ID digest, "
            "takes the same step (both copies run the same state machine).",
            answer="Nothing to send back.",
        ),
        "enrollment.problem_record.arbitrated": Role(
            sender="The province where the ministry's arbitration (仲裁) of a case both sides "
            "evidenced was recorded.",
            receiver="The counterpart province: its copy records the decision and the winning province.",
            answer="Nothing to send back.",
        ),
    }


def message_id(payload: type[EventPayload]) -> str:
    return f"{payload.event_type}.v{payload.event_version}"


def _schema_of(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its nested models moved to ``components/schemas``."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        _add_schema(schemas, name, nested)
    return schema


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two different schemas are both named {name}: rename one of the models")
    schemas[name] = schema


def _envelope_schema(schemas: dict[str, Any]) -> dict[str, Any]:
    schema = _schema_of(EventEnvelope, schemas)
    # The model fills ``id`` and ``occurred_at`` for a new event; on the wire they are required:
    # the receiver deduplicates by ``id``.
    schema["required"] = [
        name
        for name, info in EventEnvelope.model_fields.items()
        if not (info.default is None and info.default_factory is None)
    ]
    schema["description"] = (
        "What every message body is: UTF-8 JSON of this object. `province` is the sending "
        "province; `data` is the event's payload, whose schema depends on `type` and `version`. "
        "Receivers ignore fields they do not know, so a sender may add fields without a new "
        "version; removing or changing a field needs a new version."
    )
    return schema


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": (
            "AMQP headers of every inter-province message. The signature covers the exact body "
            f"bytes: signed bytes = `{SIGNED_BYTES_PREFIX}` (ASCII) + the receiving province's code "
            "+ `\\n` + body. Binding the receiver stops a message addressed to one partner being "
            "replayed into another. The AMQP properties `message_id` (= envelope `id`), `type` "
            "(= envelope `type`), `content_type` `application/json` and persistent delivery mode "
            "are set too. W3C `traceparent`/`tracestate` headers may travel along; a receiver "
            "that does not trace ignores them."
        ),
        "required": [ALG_HEADER, KEY_ID_HEADER, SIGNATURE_HEADER, TO_PROVINCE_HEADER],
        "properties": {
            ALG_HEADER: {
                "type": "string",
                "enum": [ED25519],
                "description": "Signature algorithm (签名算法). Ed25519 today; the header exists so a "
                "province can move to the national SM2/SM3 profile without a protocol change. It must "
                "match the algorithm the receiver's registry lists for the key.",
            },
            KEY_ID_HEADER: {
                "type": "string",
                "minLength": 1,
                "description": "Which of the sender's keys signed (密钥标识): an id the receiver's partner "
                "registry lists for the sending province. XueJi names its keys `<province>-<first 8 hex "
                "of SHA-256 of the raw public key>`; a rotated key gets a new id and both are trusted "
                "during the overlap.",
            },
            SIGNATURE_HEADER: {
                "type": "string",
                "contentEncoding": "base64",
                "pattern": "^[A-Za-z0-9+/]+={0,2}$",
                "description": "Standard base64 of the signature over the signed bytes (64 bytes for "
                "Ed25519).",
            },
            TO_PROVINCE_HEADER: {
                "type": "string",
                "pattern": "^[0-9]{2}$",
                "description": "The receiving province (GB/T 2260 code). Part of the signed bytes; a "
                "receiver refuses a message addressed to another province.",
            },
            "traceparent": {"type": "string", "description": "W3C trace context (optional)."},
            "tracestate": {"type": "string", "description": "W3C trace context (optional)."},
        },
    }


def _message_payload(payload: type[EventPayload]) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": f"#/components/schemas/{ENVELOPE_SCHEMA}"},
            {
                "type": "object",
                "required": ["type", "version", "data"],
                "properties": {
                    "type": {"const": payload.event_type},
                    "version": {"const": payload.event_version},
                    "data": {"$ref": f"#/components/schemas/{payload.__name__}"},
                },
            },
        ]
    }


def _message(payload: type[EventPayload], role: Role) -> dict[str, Any]:
    answers = ", ".join(f"`{p.event_type}`" for p in role.answered_with) or "none"
    return {
        "name": payload.event_type,
        "title": f"{payload.event_type} v{payload.event_version}",
        "summary": " ".join((payload.__doc__ or "").strip().split("\n\n")[0].split()),
        "description": (
            f"Sent by: {role.sender}\n\nReceived by: {role.receiver}\n\nWhat the receiver must do: "
            f"{role.answer}\n\nAnswered with: {answers}."
        ),
        "contentType": "application/json",
        "headers": {"$ref": f"#/components/schemas/{HEADERS_SCHEMA}"},
        "payload": _message_payload(payload),
        "correlationId": {
            "description": "The business process, e.g. the transfer case; an answer carries the "
            "correlation id of what it answers, and its `causation_id` is that message's `id`.",
            "location": "$message.payload#/correlation_id",
        },
        "bindings": {"amqp": {"messageType": payload.event_type, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _exchange_binding(name: str) -> dict[str, Any]:
    exchange = {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    return {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": AMQP_BINDING_VERSION}}


def _channels(payloads: tuple[type[EventPayload], ...]) -> dict[str, Any]:
    def messages() -> dict[str, Any]:
        return {message_id(p): {"$ref": f"#/components/messages/{message_id(p)}"} for p in payloads}

    example_key = interprovince_routing_key("{to_province}", "{event type}")
    return {
        OUT_CHANNEL: {
            "address": INTERPROVINCE_OUT,
            "title": "Outgoing (发往伙伴省)",
            "description": (
                f"The sending province publishes each signed event to its own topic exchange "
                f"`{INTERPROVINCE_OUT}` with routing key `{example_key}` and the mandatory flag, "
                f"from a transactional outbox after the state change commits. A durable quorum "
                f"queue per partner, `{partner_queue_name('{partner}')}`, bound with `{{partner}}.#`, "
                f"keeps the events while the partner is unreachable; a RabbitMQ dynamic shovel "
                f"(ack-mode on-confirm: removed here only once the partner's broker confirmed) "
                f"moves them to the partner broker's `{INTERPROVINCE_IN}`, routing key unchanged. "
                "A province running another system may send by any means that delivers the same "
                "body, headers and routing key to that exchange."
            ),
            "messages": messages(),
            "bindings": _exchange_binding(INTERPROVINCE_OUT),
        },
        IN_CHANNEL: {
            "address": INTERPROVINCE_IN,
            "title": "Incoming (来自伙伴省)",
            "description": (
                f"The receiving province's topic exchange `{INTERPROVINCE_IN}`; each service that "
                f"reads a partner event binds its queue `<service>.interprovince` with "
                f"`{interprovince_routing_key('{my province}', '{event type}')}`. A message no queue "
                f"is bound for goes to the alternate exchange `{INTERPROVINCE_UNROUTED}` and waits in "
                "the queue of that name for an operator instead of being dropped."
            ),
            "messages": messages(),
            "bindings": _exchange_binding(INTERPROVINCE_IN),
        },
    }


def _operations(payloads: tuple[type[EventPayload], ...], roles: dict[str, Role]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for payload in payloads:
        role, mid = roles[payload.event_type], message_id(payload)
        operations[f"send.{mid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{OUT_CHANNEL}"},
            "title": f"Send {payload.event_type}",
            "summary": role.sender,
            "messages": [{"$ref": f"#/channels/{OUT_CHANNEL}/messages/{mid}"}],
            "bindings": {
                "amqp": {
                    "cc": [interprovince_routing_key("{to_province}", payload.event_type)],
                    "deliveryMode": 2,
                    "mandatory": True,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        receive: dict[str, Any] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{IN_CHANNEL}"},
            "title": f"Receive {payload.event_type}",
            "summary": role.receiver,
            "description": role.answer,
            "messages": [{"$ref": f"#/channels/{IN_CHANNEL}/messages/{mid}"}],
        }
        if role.answered_with:
            receive["reply"] = {
                "channel": {"$ref": f"#/channels/{OUT_CHANNEL}"},
                "messages": [
                    {"$ref": f"#/channels/{OUT_CHANNEL}/messages/{message_id(p)}"} for p in role.answered_with
                ],
            }
        operations[f"receive.{mid}"] = receive
    return operations


_DELIVERY = f"""\
Delivery (投递语义):

- At least once. A message may arrive twice (a shovel or consumer restart redelivers); the
  receiver applies it once, deduplicating by the envelope `id`, and acknowledges the repeat.
- No order is promised between messages, even of one case: a step may arrive before the case
  it belongs to. The receiver keeps what it cannot apply yet and applies it later; it never
  drops it.
- An answer carries `causation_id` = the `id` of what it answers and the same
  `correlation_id`; ids a receiver derives from a message (e.g. a step's `step_id`) come from
  that message, so answering a repeat produces the same answer.
- Refused without retry and kept in the consuming queue's dead-letter queue
  (`{dead_letter_queue_name("<queue>")}`, through `{DEAD_LETTER_EXCHANGE}`), the reason in header
  `{DEAD_REASON_HEADER}`: a body that is not a valid envelope; a sending province that is not
  in the receiver's partner
  registry ("not a configured partner province"); a message without signature or key id
  ("unsigned"); an unknown key id; a key outside its validity window; an algorithm that does
  not match the key; a key of another province than the envelope's `province`; a message
  addressed to another province; a bad signature; a type or version the receiver does not
  read; a payload that does not match its schema.
- A message that is valid but fails while being applied is retried with back-off and
  dead-lettered with the last error after the receiver's attempt limit.
- Nothing is answered to a refused message: the sending province learns of it from the
  receiving province's operators, who see the dead-letter queue.
"""

_INFO = """\
The channel over which provinces running XueJi (学籍, student-status records) — or any other
system that speaks this document — exchange events: cross-province transfers (跨省转学), student
look-ups before a transfer, the automatic move of the record (自动调档), and duplicate records
across provinces found by keyed hashes of ID numbers (跨省重复学籍, 问题学籍).

Each province runs its own RabbitMQ broker (AMQP 0-9-1); provinces trust each other's signed
messages, not a shared database. Every message is one event: a JSON envelope whose `data` is
the event's payload, signed by the sending province (Ed25519; algorithm and key id in headers).

Generated from the code by `{command}`; do not edit by hand.
See docs/asyncapi/README.md for how a province running another system takes part.

{delivery}"""


def build_document() -> dict[str, Any]:
    payloads = INTERPROVINCE_PAYLOADS
    roles = _roles()
    listed = {p.event_type for p in payloads}
    if listed != set(roles):
        raise ValueError(
            f"shared/events/interprovince.py and the roles in shared/events/asyncapi.py disagree: "
            f"listed only {sorted(listed - set(roles))}, roles only {sorted(set(roles) - listed)}"
        )
    schemas: dict[str, Any] = {}
    _add_schema(schemas, ENVELOPE_SCHEMA, _envelope_schema(schemas))
    _add_schema(schemas, HEADERS_SCHEMA, _headers_schema())
    for payload in payloads:
        _add_schema(schemas, payload.__name__, _schema_of(payload, schemas))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:xueji:interprovince",
        "info": {
            "title": "XueJi inter-province events (学籍 跨省事件)",
            "version": PROTOCOL_VERSION,
            "description": _INFO.format(command=REGENERATE_COMMAND, delivery=_DELIVERY),
        },
        "defaultContentType": "application/json",
        "servers": {
            "province": {
                "host": "{broker}",
                "pathname": "/{vhost}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "title": "A province's broker",
                "description": "Every province runs one. The sender's shovel connects to the receiver's "
                "broker with the URI the sender's partner registry lists for it (`broker_uri`).",
                "variables": {
                    "broker": {"description": "host[:port] of the province's RabbitMQ"},
                    "vhost": {"description": "the province's virtual host"},
                },
            }
        },
        "channels": _channels(payloads),
        "operations": _operations(payloads, roles),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "messages": {message_id(p): _message(p, roles[p.event_type]) for p in payloads},
        },
    }


def render(document: dict[str, Any]) -> str:
    import yaml  # only the generator and the tests need it, not a running service

    class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no type hints
        """A subclass, so the block style for prose below does not change yaml.SafeDumper for
        every other caller in the process."""

    def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # Prose with line breaks as a literal block, readable in the file as written here.
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _text)
    header = f"# Generated by `{REGENERATE_COMMAND}` from the code; do not edit by hand.\n"
    body: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main() -> None:
    DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT_PATH.write_text(render(build_document()), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")


if __name__ == "__main__":
    main()
