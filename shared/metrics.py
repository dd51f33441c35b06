"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_PUBLISHED = Counter("xueji_events_published_total", "Outbox events published", ["event_type"])
EVENTS_CONSUMED = Counter(
    "xueji_events_consumed_total",
    "Events handled by a consumer, by outcome (applied, duplicate, retried, dead_lettered)",
    ["consumer", "event_type", "outcome"],
)
RELAY_LAG = Histogram(
    "xueji_outbox_relay_lag_seconds",
    "Time from an event's commit to its confirmed publish",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
