"""Tracing and logs: OpenTelemetry set-up, the span-attribute registry, OTLP-JSON span files.

Every process writes its finished spans as OTLP-JSON lines (one ExportTraceServiceRequest per
line, ids in hex as the OTLP/JSON spec says) under ``trace_dir``, and also exports OTLP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. ``python -m shared.tracetree`` prints a trace from
those files.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY  # the key instrumentations honour
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, StatusCode
from pythonjsonlogger.json import JsonFormatter

# The span-attribute registry (STYLE.md): every business attribute is named here, and none
# carries personal data (ids of records and events only, never names or ID numbers).
ATTR_PROVINCE = "xueji.province"
ATTR_EVENT_TYPE = "xueji.event.type"
ATTR_EVENT_ID = "xueji.event.id"
ATTR_CONSUMER = "xueji.event.consumer"
ATTR_EVENT_OUTCOME = "xueji.event.outcome"
ATTR_FROM_PROVINCE = "xueji.event.from_province"
ATTR_STUDENT_ID = "xueji.student.id"
ATTR_TRANSFER_ID = "xueji.transfer.id"
ATTR_TRANSFER_STEP = "xueji.transfer.step"
ATTR_REVIEW_ID = "xueji.review.id"
ATTR_CHANGE_TYPE = "xueji.review.change_type"
ATTR_PROBLEM_RECORD_ID = "xueji.problem_record.id"
ATTR_EXPORT_ID = "xueji.export.id"
ATTR_ACCOUNT_ID = "xueji.account.id"
ATTR_SIGN_IN_OUTCOME = "xueji.auth.sign_in_outcome"
ATTR_FACE_OUTCOME = "xueji.face.outcome"
ATTR_CHECK_IN_ID = "xueji.checkin.id"
ATTR_IMPORT_ID = "xueji.enrollment.import_id"


@contextmanager
def suppress_instrumentation() -> Iterator[None]:
    """Background polling (the relay's SELECTs) would otherwise start a trace every half second."""
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        yield
    finally:
        otel_context.detach(token)


# OTLP/JSON is the protobuf JSON mapping of ExportTraceServiceRequest (camelCase names, 64-bit
# integers as strings, enums by name, default values left out) with trace and span ids in hex.
# Written here straight from the SDK's spans: going through the protobuf messages and
# protobuf's JSON printer cost more CPU than the request that made the spans (the export
# thread holds the GIL meanwhile). shared/tests/unit/test_otlp_json.py holds it to the
# protobuf reference.
_SPAN_KINDS = {
    SpanKind.INTERNAL: "SPAN_KIND_INTERNAL",
    SpanKind.SERVER: "SPAN_KIND_SERVER",
    SpanKind.CLIENT: "SPAN_KIND_CLIENT",
    SpanKind.PRODUCER: "SPAN_KIND_PRODUCER",
    SpanKind.CONSUMER: "SPAN_KIND_CONSUMER",
}
_STATUS_CODES = {StatusCode.OK: "STATUS_CODE_OK", StatusCode.ERROR: "STATUS_CODE_ERROR"}
_HAS_IS_REMOTE = 0x100  # SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK


def _any_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"doubleValue": value}
        return {"doubleValue": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Sequence):
        values = [_any_value(v) for v in value]
        return {"arrayValue": {"values": values} if values else {}}
    if isinstance(value, Mapping):
        pairs = [{"key": str(k), "value": _any_value(v)} for k, v in value.items()]
        return {"kvlistValue": {"values": pairs} if pairs else {}}
    raise TypeError(f"attribute value of type {type(value).__name__}")


def _attributes(attributes: Mapping[str, Any] | None, into: dict[str, Any], dropped: int = 0) -> None:
    if attributes:
        into["attributes"] = [{"key": k, "value": _any_value(v)} for k, v in attributes.items()]
    if dropped:
        into["droppedAttributesCount"] = dropped


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)


def _span_json(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # every SDK span has one
    out: dict[str, Any] = {
        "traceId": format(context.trace_id, "032x"),
        "spanId": format(context.span_id, "016x"),
    }
    if context.trace_state:
        out["traceState"] = ",".join(f"{k}={v}" for k, v in context.trace_state.items())
    if span.parent is not None:
        out["parentSpanId"] = format(span.parent.span_id, "016x")
    out["flags"] = _flags(span.parent)
    if span.name:
        out["name"] = span.name
    out["kind"] = _SPAN_KINDS[span.kind]
    if span.start_time:
        out["startTimeUnixNano"] = str(span.start_time)
    if span.end_time:
        out["endTimeUnixNano"] = str(span.end_time)
    _attributes(span.attributes, out, span.dropped_attributes)
    if span.events:
        events = []
        for event in span.events:
            encoded: dict[str, Any] = {}
            if event.timestamp:
                encoded["timeUnixNano"] = str(event.timestamp)
            if event.name:
                encoded["name"] = event.name
            _attributes(event.attributes, encoded, event.dropped_attributes)
            events.append(encoded)
        out["events"] = events
    if span.dropped_events:
        out["droppedEventsCount"] = span.dropped_events
    if span.links:
        links = []
        for link in span.links:
            encoded = {
                "traceId": format(link.context.trace_id, "032x"),
                "spanId": format(link.context.span_id, "016x"),
            }
            _attributes(link.attributes, encoded, link.dropped_attributes)
            encoded["flags"] = _flags(link.context)
            links.append(encoded)
        out["links"] = links
    if span.dropped_links:
        out["droppedLinksCount"] = span.dropped_links
    status: dict[str, Any] = {}
    if span.status.description:
        status["message"] = span.status.description
    if span.status.status_code in _STATUS_CODES:
        status["code"] = _STATUS_CODES[span.status.status_code]
    out["status"] = status
    return out


def spans_to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """One ExportTraceServiceRequest in OTLP/JSON, spans grouped by resource, then by scope."""
    # Grouped by identity: a process has one resource and a few scopes, and hashing a Resource
    # serialises its attributes every time.
    grouped: dict[int, tuple[Resource, dict[InstrumentationScope | None, list[dict[str, Any]]]]] = {}
    for span in spans:
        _, by_scope = grouped.setdefault(id(span.resource), (span.resource, {}))
        by_scope.setdefault(span.instrumentation_scope or None, []).append(_span_json(span))
    resource_spans = []
    for resource, by_scope in grouped.values():
        scope_spans = []
        for scope, encoded in by_scope.items():
            entry: dict[str, Any] = {"scope": _scope_json(scope), "spans": encoded}
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scope_spans.append(entry)
        described: dict[str, Any] = {}
        _attributes(resource.attributes, described)
        entry = {"resource": described, "scopeSpans": scope_spans}
        if resource.schema_url:
            entry["schemaUrl"] = resource.schema_url
        resource_spans.append(entry)
    return {"resourceSpans": resource_spans} if resource_spans else {}


def _scope_json(scope: InstrumentationScope | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if scope is None:
        return out
    if scope.name:
        out["name"] = scope.name
    if scope.version:
        out["version"] = scope.version
    _attributes(scope.attributes, out)
    return out


class OtlpJsonLinesExporter(SpanExporter):
    """Appends each exported batch as one line to ``<dir>/<service>-<province>-<pid>.jsonl``."""

    def __init__(self, directory: Path, stem: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / f"{stem}-{os.getpid()}.jsonl"
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = json.dumps(spans_to_otlp_json(spans), ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def setup_tracing(
    service: str, province: str, trace_dir: Path, *, otlp_endpoint: str | None = None
) -> TracerProvider:
    """Install this process's tracer provider (once per process)."""
    resource = Resource.create(
        {"service.name": service, "service.namespace": f"xueji-{province}", ATTR_PROVINCE: province}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(
        BatchSpanProcessor(
            OtlpJsonLinesExporter(trace_dir, f"{service}-{province}"), schedule_delay_millis=300
        )
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


class _TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


def setup_json_logging(service: str, province: str, level: int = logging.INFO) -> None:
    """JSON log lines carrying the trace and span ids, so a log line leads to its trace."""
    handler = logging.StreamHandler()
    handler.addFilter(_TraceIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            static_fields={"service": service, "province": province},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
