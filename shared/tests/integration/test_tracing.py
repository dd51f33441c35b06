"""One request is one trace: the span that wrote an event is an ancestor of the span that
handled it, through the outbox, the relay and the broker.

This module installs the process's global tracer provider (OpenTelemetry allows that once per
process) or, if another module got there first with an SDK provider, adds its exporter to it;
it instruments aio-pika for its own test only and removes that instrumentation afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from aio_pika.abc import AbstractRobustConnection
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.relay import OutboxRelay
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.telemetry import ATTR_CONSUMER
from shared.tests.integration.support import (
    ThingHappened,
    effects,
    start_consumer,
    unique_queue,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AioPikaInstrumentor()
    already = instrumentor.is_instrumented_by_opentelemetry
    if not already:
        instrumentor.instrument()
    try:
        yield exporter
    finally:
        if not already:
            instrumentor.uninstrument()
        exporter.shutdown()  # the processor stays (it cannot be removed) but keeps nothing more


def ancestry(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """Names from ``span`` up to the root, as far as the recorded spans reach."""
    names = [span.name]
    current = span
    while current.parent is not None and current.parent.span_id in by_id:
        current = by_id[current.parent.span_id]
        names.append(current.name)
    return names


async def test_tracing__consumer_span_descends_from_the_request_that_emitted(
    amqp: AbstractRobustConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
    origin: EventOrigin,
    spans: InMemorySpanExporter,
) -> None:
    queue = unique_queue("events")
    await start_consumer(amqp, sessionmaker, queue)
    tracer = trace.get_tracer("xueji.tests")
    with tracer.start_as_current_span("request") as request:
        async with UnitOfWork(sessionmaker, origin) as uow:
            uow.emit(ThingHappened(n=1))
            await uow.commit()
    request_ctx = request.get_span_context()
    assert request_ctx.is_valid, "no SDK tracer provider is active"

    assert await OutboxRelay(sessionmaker, amqp).publish_pending() == 1

    async def applied() -> bool:
        return len(await effects(sessionmaker)) == 1

    await wait_for(applied, within=10, what="the event to be applied")

    def consumer_span() -> ReadableSpan | None:
        return next(
            (s for s in spans.get_finished_spans() if (s.attributes or {}).get(ATTR_CONSUMER) == queue), None
        )

    deadline = time.monotonic() + 5
    while (handled := consumer_span()) is None:
        assert time.monotonic() < deadline, "the consumer's span was never finished"
        await asyncio.sleep(0.05)

    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished if s.context.trace_id == request_ctx.trace_id}
    chain = ancestry(handled, by_id)
    assert handled.context.trace_id == request_ctx.trace_id, (
        f"the consumer's span started a trace of its own; its ancestry: {chain}"
    )
    assert chain[-1] == "request", f"the consumer's span does not descend from the request: {chain}"
    assert f"outbox publish {ThingHappened.event_type}" in chain, chain
