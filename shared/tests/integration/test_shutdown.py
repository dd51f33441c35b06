"""A service process stops on SIGTERM promptly and cleanly: status 0, and a request under way
when the signal arrives still gets its answer. A real ``python -m services.transfer`` against
its own database and virtual host, started as deploy/local/stack.py starts one. Then the parts
of that shutdown that must lose nothing: a consumer's stop, and the relay's last flush."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.consumer import EventConsumer, Subscriptions
from shared.bus.relay import OutboxRelay
from shared.bus.tables import OutboxMessage
from shared.bus.topology import declare_consumer_queue
from shared.bus.unit_of_work import EventOrigin, UnitOfWork
from shared.events import EventEnvelope
from shared.testing import free_port, temporary_database, temporary_vhost, unique_name
from shared.tests.integration.support import (
    DELIVERY_LIMIT,
    PROVINCE,
    Effect,
    ThingHappened,
    effects,
    envelope_of,
    publish_envelope,
    start_consumer,
    unique_queue,
    wait_for,
)

REPO = Path(__file__).resolve().parents[3]
READY_WITHIN_SECONDS = 120.0
# Only keeps a hung process from hanging the suite; the measured time is printed, not asserted.
EXIT_WITHIN_SECONDS = 30.0


class RunningService:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the service exited during start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):  # not listening yet
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        pytest.fail(f"not ready after {READY_WITHIN_SECONDS:.0f} s:\n{self.log_tail()}")

    def terminate_and_wait(self) -> int:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit(started)

    def wait_exit(self, signalled_at: float) -> int:
        try:
            code = self.process.wait(timeout=EXIT_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_WITHIN_SECONDS:.0f} s after SIGTERM:\n{self.log_tail()}")
        print(f"exited with {code} {time.monotonic() - signalled_at:.2f} s after SIGTERM")
        return code

    def refuses_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return True
        return False


@pytest.fixture
def transfer_service(tmp_path: Path) -> Iterator[RunningService]:
    with temporary_database() as db_url, temporary_vhost() as bus_url:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "XUEJI_PROVINCE": "41",
            "XUEJI_DATABASE_URL": db_url,
            "XUEJI_AMQP_URL": bus_url,
            "XUEJI_HTTP_PORT": str(port),
            "XUEJI_REDIS_PREFIX": f"xueji:{unique_name()}:",
            "XUEJI_TRACE_DIR": str(tmp_path / "traces"),
        }
        log = tmp_path / "transfer.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.transfer"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        service = RunningService(process, port, log)
        try:
            service.wait_ready()
            yield service
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_service_stops__on_sigterm_with_status_zero(transfer_service: RunningService) -> None:
    # An idle keep-alive connection must not hold the shutdown up.
    with httpx.Client() as client:
        assert client.get(f"http://127.0.0.1:{transfer_service.port}/healthz").status_code == 200
        code = transfer_service.terminate_and_wait()
    assert code == 0, transfer_service.log_tail()


def test_service_stops__a_request_under_way_still_gets_its_answer(transfer_service: RunningService) -> None:
    body = b'{"student_id": "not-a-student"}'
    head = (
        b"POST /api/v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", transfer_service.port), timeout=10) as conn:
        # The request is under way: headers and half the body sent, the app reading the rest.
        conn.sendall(head + body[:10])
        time.sleep(0.3)
        signalled_at = time.monotonic()
        transfer_service.process.send_signal(signal.SIGTERM)
        # Shutdown has begun once the server takes no new connections; only then the rest.
        deadline = time.monotonic() + EXIT_WITHIN_SECONDS
        while not transfer_service.refuses_connections():
            assert time.monotonic() < deadline, "the server kept taking connections after SIGTERM"
            time.sleep(0.05)
        assert not _answered_yet(conn), "answered before the whole body was sent: not under way"
        conn.sendall(body[10:])
        answer = _read_response(conn)
    status_line = answer.split(b"\r\n", 1)[0]
    # Unauthenticated, so refused, but answered in full rather than cut off.
    assert status_line.startswith(b"HTTP/1.1 401"), answer[:500]
    assert transfer_service.wait_exit(signalled_at) == 0, transfer_service.log_tail()


def _answered_yet(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return bool(conn.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        conn.settimeout(10)


def _read_response(conn: socket.socket) -> bytes:
    """The whole response: headers, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a full response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-body: {head + rest!r}")
        rest += chunk
    return head + b"\r\n\r\n" + rest


class HeldHandler:
    """Records the effect only once the test lets it go, so the test can stop the consumer
    while a message is being handled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    def subscriptions(self) -> Subscriptions:
        subs = Subscriptions()

        @subs.on(ThingHappened)
        async def when_thing_happened_wait_then_record(
            event: ThingHappened, meta: EventEnvelope, uow: UnitOfWork
        ) -> None:
            self.started.set()
            await self.release.wait()
            uow.session.add(Effect(event_id=meta.id, n=event.n, note=event.note))

        return subs


async def _start_held_consumer(
    amqp: AbstractRobustConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: str,
    held: HeldHandler,
) -> tuple[EventConsumer, AbstractChannel]:
    channel = await amqp.channel()
    consumer = EventConsumer(
        queue_name=queue,
        subscriptions=held.subscriptions().local,
        sessionmaker=sessionmaker,
        origin=EventOrigin("testing", PROVINCE),
        delivery_limit=DELIVERY_LIMIT,
    )
    await consumer.start(channel)
    await publish_envelope(channel, envelope_of(ThingHappened(n=1, note="under way at stop")))
    async with asyncio.timeout(20):
        await held.started.wait()
    return consumer, channel


async def _messages_in(amqp: AbstractRobustConnection, queue: str) -> int | None:
    channel = await amqp.channel()
    try:
        declared, _ = await declare_consumer_queue(channel, queue)
        return declared.declaration_result.message_count
    finally:
        await channel.close()


async def test_consumer_stop__a_message_under_way_is_finished_and_acked(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("stop")
    held = HeldHandler()
    consumer, channel = await _start_held_consumer(amqp, sessionmaker, queue, held)
    stopping = asyncio.create_task(consumer.stop(grace=20))
    await asyncio.sleep(0.2)
    assert not stopping.done(), "stop must wait for the message being handled"
    held.release.set()
    await stopping
    assert [e.note for e in await effects(sessionmaker)] == ["under way at stop"]
    await channel.close()
    assert await _messages_in(amqp, queue) == 0, "the handled message must have been acked"


async def test_consumer_stop__a_message_past_the_grace_is_redelivered(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queue = unique_queue("stop")
    held = HeldHandler()  # never released
    consumer, channel = await _start_held_consumer(amqp, sessionmaker, queue, held)
    await consumer.stop(grace=0.2)
    await channel.close()
    assert await effects(sessionmaker) == [], "the cut-short handler's work must roll back"
    await start_consumer(amqp, sessionmaker, queue)

    async def applied() -> bool:
        return [e.note for e in await effects(sessionmaker)] == ["under way at stop"]

    await wait_for(applied, within=20, what="the unacked message redelivered to the next consumer")


async def test_relay_stop__publishes_what_was_committed_before_it(
    amqp: AbstractRobustConnection, sessionmaker: async_sessionmaker[AsyncSession], origin: EventOrigin
) -> None:
    relay = OutboxRelay(sessionmaker, amqp)  # its loop never started: only the last flush runs
    async with UnitOfWork(sessionmaker, origin) as uow:
        sent = uow.emit(ThingHappened(n=2, note="committed just before shutdown"))
        await uow.commit()
    await relay.stop(grace=20)
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == sent.id))
    assert row is not None and row.published_at is not None
