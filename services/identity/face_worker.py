"""``python -m services.identity.face_worker``: the face-check workers (issue 4, item 4).

Each process consumes the one quorum queue ``identity.face_checks``; adding processes adds
throughput (a consumer group: RabbitMQ hands each message to one of them). Prefetch is 1 because
a check costs ~0.1–0.3 s of CPU: a process must not sit on messages another could start now.
Results leave through this process's own outbox relay (several relays share the outbox safely).
See docs/adr/0006-selfies-for-face-checks.md for how the selfie reaches the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal

import aio_pika
import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor

from services.identity.audit import AuditKind, record
from services.identity.domain.face_match import FaceOutcome
from services.identity.faces import engine
from services.identity.faces.checking import MAX_PHOTO_BYTES, FaceResult, verify_face
from services.identity.faces.templates import TemplateKeys, load_or_create_key_file
from services.identity.startup import face_key_path
from shared.bus.consumer import EventConsumer, Subscriptions
from shared.bus.relay import OutboxRelay
from shared.bus.topology import declare_exchanges
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.db import make_engine, make_sessionmaker
from shared.events import EventEnvelope
from shared.events.identity import FaceVerificationRequested, FaceVerified
from shared.settings import Settings
from shared.telemetry import ATTR_CHECK_IN_ID, ATTR_FACE_OUTCOME, setup_json_logging, setup_tracing

log = logging.getLogger(__name__)
FACE_QUEUE = "identity.face_checks"


class SelfieFetcher:
    """Fetches a selfie from checkin's internal endpoint and checks it is the announced one."""

    def __init__(self, client: httpx.AsyncClient, service_token: str | None) -> None:
        self._client = client
        self._headers = {"Authorization": f"Service {service_token}"} if service_token else {}

    async def fetch(self, url: str, sha256: str) -> bytes | FaceResult:
        """The bytes, or a result saying why there is nothing to compare. A network failure or a
        5xx raises, so the consumer retries the event later."""
        response = await self._client.get(url, headers=self._headers)
        if response.status_code in (404, 410):
            return FaceResult(
                FaceOutcome.POOR_IMAGE, "selfie_missing: checkin no longer has it", "自拍照已不存在"
            )
        response.raise_for_status()
        if len(response.content) > MAX_PHOTO_BYTES:
            return FaceResult(FaceOutcome.POOR_IMAGE, "selfie_too_large", "自拍照过大")
        if hashlib.sha256(response.content).hexdigest() != sha256:
            return FaceResult(
                FaceOutcome.POOR_IMAGE,
                "selfie_altered: bytes differ from the announced hash",
                "自拍照与摘要不符",
            )
        return response.content


def face_subscriptions(keys: TemplateKeys, fetcher: SelfieFetcher) -> Subscriptions:
    subs = Subscriptions()

    @subs.on(FaceVerificationRequested)
    async def when_face_verification_requested_compare_faces(
        event: FaceVerificationRequested, meta: EventEnvelope, uow: UnitOfWork
    ) -> None:
        span = trace.get_current_span()
        span.set_attribute(ATTR_CHECK_IN_ID, event.check_in_id)
        fetched = await fetcher.fetch(event.selfie_url, event.selfie_sha256)
        if isinstance(fetched, FaceResult):
            result = fetched
        else:
            result = await verify_face(uow.session, keys, event.student_id, fetched)
        span.set_attribute(ATTR_FACE_OUTCOME, result.outcome.value)
        uow.emit(
            FaceVerified(
                check_in_id=event.check_in_id,
                student_id=event.student_id,
                outcome=result.outcome.value,
                reason=result.reason,
                reason_zh=result.reason_zh,
                distance=result.distance,
            ),
            subject=event.student_id,
        )
        record(
            uow.session,
            AuditKind.FACE_VERIFICATION,
            result.outcome.value,
            student_id=event.student_id,
            check_in_id=event.check_in_id,
            distance=result.distance,
            via="event",
        )

    return subs


async def run(settings: Settings, *, stop: asyncio.Event, client: httpx.AsyncClient | None = None) -> None:
    """One worker until ``stop`` is set. The API process has already migrated the database."""
    await asyncio.to_thread(engine.load_models)  # before taking messages: the first check is not slow
    keys = load_or_create_key_file(face_key_path(settings))
    db = make_engine(settings.database_url, pool_size=2)
    sessionmaker = make_sessionmaker(db)
    amqp = await aio_pika.connect_robust(
        settings.amqp_url, client_properties={"connection_name": "face-worker"}
    )
    http = client or httpx.AsyncClient(timeout=10.0)
    try:
        await declare_exchanges(await amqp.channel())
        relay = OutboxRelay(sessionmaker, amqp, batch=settings.relay_batch)
        origin = EventOrigin(settings.service, settings.province, None, on_commit=relay.wake)
        relay_task = asyncio.create_task(relay.run_forever(), name="face-worker-relay")
        channel = await amqp.channel()
        await channel.set_qos(prefetch_count=1)
        consumer = EventConsumer(
            queue_name=FACE_QUEUE,
            subscriptions=face_subscriptions(keys, SelfieFetcher(http, settings.service_token)).local,
            sessionmaker=sessionmaker,
            origin=origin,
            delivery_limit=settings.delivery_limit,
        )
        await consumer.start(channel)
        log.info("face worker for province %s consuming %s", settings.province, FACE_QUEUE)
        await stop.wait()
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
    finally:
        if client is None:
            await http.aclose()
        await amqp.close()
        await db.dispose()


def main() -> None:
    settings = Settings(service="identity")
    setup_json_logging("identity-face-worker", settings.province)
    setup_tracing(
        "identity-face-worker", settings.province, settings.trace_dir, otlp_endpoint=settings.otlp_endpoint
    )
    AioPikaInstrumentor().instrument()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop=stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
