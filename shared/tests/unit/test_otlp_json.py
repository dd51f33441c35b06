"""The span files' OTLP/JSON, written straight from the SDK's spans, is exactly what the
protobuf encoder and protobuf's JSON mapping give (with ids in hex, as OTLP/JSON says)."""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from shared.telemetry import spans_to_otlp_json


def _reference(spans: list[ReadableSpan]) -> dict[str, Any]:
    request: dict[str, Any] = MessageToDict(encode_spans(spans))
    for resource_spans in request.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64decode(span[key]).hex()
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        if link.get(key):
                            link[key] = base64.b64decode(link[key]).hex()
    return request


def _spans() -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    providers = []
    for service, schema in (("enrollment", ""), ("checkin", "https://opentelemetry.io/schemas/1.21.0")):
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "xueji.province": "41"}, schema_url=schema)
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(provider)
    remote = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("congo", "t61rcWkgMzE"), ("rojo", "00f067aa0ba902b7")]),
    )
    plain = providers[0].get_tracer("xueji.enrollment")
    versioned = providers[0].get_tracer(
        "opentelemetry.instrumentation.sqlalchemy",
        "0.66b1",
        schema_url="https://opentelemetry.io/schemas/1.11.0",
    )
    other = providers[1].get_tracer("xueji.checkin", attributes={"scope.attr": "x"})
    with plain.start_as_current_span(
        "POST /api/v1/students",
        context=trace.set_span_in_context(trace.NonRecordingSpan(remote)),
        kind=SpanKind.SERVER,
        attributes={
            "http.status_code": 201,
            "s": "学籍",
            "empty": "",
            "ok": True,
            "ratio": 0.25,
            "zero": 0,
            "list": ["a", "b"],
            "ints": [1, 2],
            "none": [],
        },
    ) as server:
        server.add_event("exception", {"exception.type": "ValueError", "n": 3})
        server.add_event("", {})
        with versioned.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
            pass
        with plain.start_as_current_span(
            "failing", links=[Link(remote, {"why": "caused by"}), Link(remote)]
        ) as bad:
            bad.set_status(Status(StatusCode.ERROR, "boom"))
        with plain.start_as_current_span("fine") as good:
            good.set_status(Status(StatusCode.OK))
    with other.start_as_current_span("consume", kind=SpanKind.CONSUMER):
        pass
    with other.start_as_current_span("publish", kind=SpanKind.PRODUCER):
        pass
    return list(exporter.get_finished_spans())


def test_the_span_json__equals_the_protobuf_mapping() -> None:
    spans = _spans()

    assert spans_to_otlp_json(spans) == _reference(spans)


def test_each_span_alone__equals_the_protobuf_mapping() -> None:
    for span in _spans():
        assert spans_to_otlp_json([span]) == _reference([span])


def test_no_spans__an_empty_request() -> None:
    assert spans_to_otlp_json([]) == _reference([])
