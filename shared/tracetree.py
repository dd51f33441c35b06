"""Read the OTLP-JSON span files the processes write and print one trace as a tree.

    python -m shared.tracetree <trace id> [--dir var/traces]

A span whose parent is not in the files is shown as a root and flagged: in a healthy trace
there is exactly one root, the request that started it.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SpanRecord:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    service: str
    province: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(v: dict[str, Any]) -> Any:
    for key in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    return v


def _attributes(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def load_spans(directory: Path, trace_id: str | None = None) -> list[SpanRecord]:
    spans: list[SpanRecord] = []
    for path in sorted(directory.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or (trace_id and trace_id not in line):
                continue
            request = json.loads(line)
            for resource_spans in request.get("resourceSpans", []):
                resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
                for scope_spans in resource_spans.get("scopeSpans", []):
                    for span in scope_spans.get("spans", []):
                        if trace_id and span["traceId"] != trace_id:
                            continue
                        spans.append(
                            SpanRecord(
                                trace_id=span["traceId"],
                                span_id=span["spanId"],
                                parent_id=span.get("parentSpanId") or None,
                                name=span["name"],
                                kind=span.get("kind", ""),
                                service=str(resource.get("service.name", "?")),
                                province=str(resource.get("xueji.province", "?")),
                                start_ns=int(span["startTimeUnixNano"]),
                                end_ns=int(span["endTimeUnixNano"]),
                                attributes=_attributes(span.get("attributes", [])),
                            )
                        )
    return spans


def roots(spans: list[SpanRecord]) -> list[SpanRecord]:
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_id is None or s.parent_id not in ids]


def ancestors(span: SpanRecord, by_id: dict[str, SpanRecord]) -> list[SpanRecord]:
    chain: list[SpanRecord] = []
    current = span
    while current.parent_id and current.parent_id in by_id:
        current = by_id[current.parent_id]
        chain.append(current)
    return chain


def render(spans: list[SpanRecord]) -> str:
    children: dict[str | None, list[SpanRecord]] = defaultdict(list)
    ids = {s.span_id for s in spans}
    for s in spans:
        children[s.parent_id if s.parent_id in ids else None].append(s)
    lines: list[str] = []

    def walk(span: SpanRecord, depth: int) -> None:
        flag = "" if depth or span.parent_id is None else "  [parent missing]"
        lines.append(
            f"{'  ' * depth}{span.name}  <{span.service}@{span.province}>  {span.duration_ms:.1f} ms{flag}"
        )
        for child in sorted(children[span.span_id], key=lambda c: c.start_ns):
            walk(child, depth + 1)

    for root in sorted(children[None], key=lambda c: c.start_ns):
        walk(root, 0)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Print one trace as a tree of spans.")
    parser.add_argument("trace_id")
    parser.add_argument("--dir", type=Path, default=Path("var/traces"))
    args = parser.parse_args()
    spans = load_spans(args.dir, args.trace_id.lower())
    if not spans:
        raise SystemExit(f"no spans of trace {args.trace_id} under {args.dir}")
    services = sorted({f"{s.service}@{s.province}" for s in spans})
    print(f"trace {args.trace_id}: {len(spans)} spans, {len(roots(spans))} root(s)")
    print(f"services: {', '.join(services)}")
    print(render(spans))


if __name__ == "__main__":
    main()
