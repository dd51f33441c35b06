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
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY  # the key instrumentations honour
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
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


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def spans_to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """One ExportTraceServiceRequest in OTLP/JSON: protobuf JSON mapping with hex ids."""
    request: dict[str, Any] = MessageToDict(encode_spans(spans))
    for resource_spans in request.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _b64_to_hex(span[key])
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        if link.get(key):
                            link[key] = _b64_to_hex(link[key])
    return request


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
