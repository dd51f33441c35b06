"""The one way a XueJi service process is assembled: migrations, database, Redis, bus, relay,
consumers, auth, problem details, tracing, health and metrics. A service supplies its routers,
migrations and event handlers in a ``ServiceSpec``."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, cast

import aio_pika
import redis.asyncio as aioredis
import uvicorn
from aio_pika.abc import AbstractRobustConnection
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import JwksVerifier
from shared.bus.consumer import EventConsumer, Subscription, Subscriptions, consumer_queue_names
from shared.bus.relay import OutboxRelay
from shared.bus.topology import declare_exchanges, declare_partner_queue
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.china_time import today_in_china
from shared.db import create_database_if_missing, make_engine, make_sessionmaker, upgrade_to_head
from shared.problems import PROBLEM_JSON, install_problem_handlers
from shared.settings import Settings
from shared.signing import Signer, TrustStore
from shared.telemetry import setup_json_logging, setup_tracing

log = logging.getLogger(__name__)

# Shutdown on SIGTERM, every step bounded so a process is gone within ~7 s (a supervisor's
# patience — Kubernetes', deploy/local/stack.py's — is longer, and nothing here is lost by being
# cut short: unpublished outbox rows stay, unacked messages are redelivered). In order:
HTTP_GRACE_SECONDS = 2  # no new connections; requests under way may finish (whole seconds: uvicorn)
HANDLERS_GRACE_SECONDS = 1.5  # no new messages; handlers and background steps under way may finish
RELAY_FLUSH_SECONDS = 1.0  # publish what they committed
CLOSE_SECONDS = 0.5  # each of the broker, Redis and database connections

# Stops a background duty within the seconds it is given.
ShutdownHook = Callable[[float], Awaitable[None]]


@dataclass
class ServiceContext:
    """Everything a route or handler of one service process may need, built at start."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    amqp: AbstractRobustConnection
    origin: EventOrigin
    relay: OutboxRelay
    extras: dict[str, Any] = field(default_factory=dict)
    shutdown_hooks: list[ShutdownHook] = field(default_factory=list)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, self.origin)

    def today(self) -> date:
        """Today in China; a test may pin it with ``extras["today"]`` (a callable giving a date)."""
        clock = self.extras.get("today")
        if clock is not None:
            return cast(date, clock())
        return today_in_china()

    def at_shutdown(self, hook: ShutdownHook) -> None:
        """Have ``hook(grace)`` called at shutdown, with the consumers' stop and before the
        relay's last flush (``PeriodicTask`` registers itself)."""
        self.shutdown_hooks.append(hook)


@dataclass
class ServiceSpec:
    name: str
    title: str
    migrations_dir: Path
    routers: list[APIRouter] = field(default_factory=list)
    subscriptions: Subscriptions | None = None
    # Runs once the bus and database are up: seeding, extra state in ``ctx.extras``.
    on_start: Callable[[ServiceContext], Awaitable[None]] | None = None


async def get_context(request: Request) -> ServiceContext:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread
    # hop on every request for what is an attribute lookup.
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Context = Annotated[ServiceContext, Depends(get_context)]

_sqlalchemy_instrumented = False


def _instrument_engine(engine: AsyncEngine) -> None:
    # The SQLAlchemy instrumentor ignores a second instrument() call in one process (STACK.md).
    global _sqlalchemy_instrumented
    if not _sqlalchemy_instrumented:
        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)
        _sqlalchemy_instrumented = True


def _signer(settings: Settings) -> Signer | None:
    if settings.signing_key_file is None or not settings.signing_key_file.exists():
        return None
    return Signer.from_key_file(settings.province, settings.signing_key_file, settings.signing_key_id)


@asynccontextmanager
async def _running(app: FastAPI, spec: ServiceSpec, settings: Settings) -> AsyncIterator[None]:
    await asyncio.to_thread(create_database_if_missing, settings.database_url)
    await asyncio.to_thread(upgrade_to_head, settings.sync_database_url, spec.migrations_dir)
    engine = make_engine(settings.database_url)
    _instrument_engine(engine)
    sessionmaker = make_sessionmaker(engine)
    redis_client = aioredis.from_url(settings.redis_url)
    amqp = await aio_pika.connect_robust(settings.amqp_url, client_properties={"connection_name": spec.name})
    topology_channel = await amqp.channel()
    await declare_exchanges(topology_channel)
    for partner in settings.partners:
        await declare_partner_queue(topology_channel, partner)
    relay = OutboxRelay(sessionmaker, amqp, batch=settings.relay_batch)
    origin = EventOrigin(settings.service, settings.province, _signer(settings), on_commit=relay.wake)
    ctx = ServiceContext(settings, engine, sessionmaker, redis_client, amqp, origin, relay)
    app.state.ctx = ctx
    app.state.jwt_verifier = JwksVerifier(f"{settings.identity_url}/.well-known/jwks.json", settings.province)
    if spec.on_start is not None:
        await spec.on_start(ctx)
    relay.start(name=f"{spec.name}-outbox-relay")
    consumers: list[EventConsumer] = []
    if spec.subscriptions is not None:
        consumer_channel = await amqp.channel()
        await consumer_channel.set_qos(prefetch_count=settings.prefetch)
        local_queue, partner_queue = consumer_queue_names(spec.name)
        queues: list[tuple[str, dict[str, Subscription], TrustStore | None]] = [
            (local_queue, spec.subscriptions.local, None)
        ]
        if spec.subscriptions.partner:
            trust = (
                TrustStore.from_registry(settings.partners_file)
                if settings.partners_file is not None
                else TrustStore.from_file(settings.trust_file)
            )
            queues.append((partner_queue, spec.subscriptions.partner, trust))
        for queue_name, handlers, trust_store in queues:
            if handlers:
                consumer = EventConsumer(
                    queue_name=queue_name,
                    subscriptions=handlers,
                    sessionmaker=sessionmaker,
                    origin=origin,
                    delivery_limit=settings.delivery_limit,
                    trust=trust_store,
                )
                await consumer.start(consumer_channel)
                consumers.append(consumer)
    log.info("%s for province %s is ready on port %s", spec.name, settings.province, settings.http_port)
    try:
        yield
    finally:
        await _shut_down(ctx, consumers)


async def _shut_down(ctx: ServiceContext, consumers: list[EventConsumer]) -> None:
    """After uvicorn has stopped taking requests: consumers and background duties finish what
    they are doing, the relay publishes what they committed, then the connections close."""
    log.info("%s: shutting down", ctx.settings.service)
    stops: list[Awaitable[None]] = [c.stop(HANDLERS_GRACE_SECONDS) for c in consumers]
    stops += [hook(HANDLERS_GRACE_SECONDS) for hook in ctx.shutdown_hooks]
    for outcome in await asyncio.gather(*stops, return_exceptions=True):
        if isinstance(outcome, Exception):
            log.warning("shutdown: a consumer or background task failed to stop", exc_info=outcome)
    await ctx.relay.stop(RELAY_FLUSH_SECONDS)
    for what, close in (
        ("broker connection", ctx.amqp.close),
        ("redis", ctx.redis.aclose),
        ("database pool", ctx.engine.dispose),
    ):
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await close()
        except Exception:  # a timeout included: the process is ending, the server drops it
            log.warning("shutdown: closing the %s failed", what, exc_info=True)
    log.info("%s: shut down", ctx.settings.service)


def _health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Alive: the process serves and its outbox relay runs")
    async def healthz(ctx: Context) -> JSONResponse:
        # A relay that has ended does not come back by itself; a restart (liveness) does.
        if ctx.relay.running:
            return JSONResponse({"status": "alive"})
        body = {
            "type": "urn:xueji:problem:not-alive",
            "title": "Outbox relay stopped",
            "title_zh": "事件发送已停止",
            "status": 503,
            "detail": "the outbox relay has ended; restart the process",
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)

    @router.get("/readyz", summary="Database, broker and Redis reachable, outbox relay running")
    async def readyz(ctx: Context) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
        checks["broker"] = "ok" if not ctx.amqp.is_closed and ctx.amqp.connected.is_set() else "unreachable"
        # A process whose relay has ended still answers; its events would only pile up.
        checks["outbox_relay"] = "ok" if ctx.relay.running else "stopped"
        ready = all(v == "ok" for v in checks.values())
        if ready:
            return JSONResponse({"status": "ready", "checks": checks})
        body = {
            "type": "urn:xueji:problem:not-ready",
            "title": "Not ready",
            "title_zh": "服务暂不可用",
            "status": 503,
            "detail": "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            "checks": checks,
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class TraceResponseHeader:
    """W3C Trace Context's ``traceresponse``: a client (or an operator with curl) learns which
    trace its request started, to look it up with ``make trace ID=…``. Plain ASGI: Starlette's
    ``BaseHTTPMiddleware`` runs every request through a task group and memory streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                span_context = trace.get_current_span().get_span_context()
                if span_context.is_valid:
                    value = (
                        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
                        f"-{span_context.trace_flags:02x}"
                    )
                    message["headers"] = [*message.get("headers", []), (b"traceresponse", value.encode())]
            await send(message)

        await self.app(scope, receive, send_with_trace)


def create_app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _running(app, spec, settings):
            yield

    app = FastAPI(
        title=f"XueJi {spec.title} ({settings.province})",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)

    app.add_middleware(TraceResponseHeader)
    app.include_router(_health_router())
    for router in spec.routers:
        app.include_router(router)
    # No sub-spans per ASGI message (http receive / http send ×2 per request): they said
    # nothing the server span does not, and cost more than a small request's own work.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )
    return app


def main(spec: ServiceSpec) -> None:
    """``python -m services.<name>``: one service process of one province, settings from env."""
    settings = Settings(service=spec.name)  # the rest comes from XUEJI_* variables
    setup_json_logging(spec.name, settings.province)
    setup_tracing(spec.name, settings.province, settings.trace_dir, otlp_endpoint=settings.otlp_endpoint)
    AioPikaInstrumentor().instrument()
    RedisInstrumentor().instrument()
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again with the
    # handler found at start; this one makes that (and a SIGTERM before uvicorn has started)
    # a normal exit, status 0, not a death by signal that supervisors report as a failure.
    signal.signal(signal.SIGTERM, _exit_normally)
    uvicorn.run(
        create_app(spec, settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=HTTP_GRACE_SECONDS,
    )


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
