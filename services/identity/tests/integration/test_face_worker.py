"""The face workers: requests as events, results as events, several processes on one queue.

The workers run in-process here (``run``), against the same database and virtual host as the
identity fixture; checkin's internal selfie endpoint is a small ASGI app that checks the
service token, as checkin's will."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

import aio_pika
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Header
from fastapi.responses import Response

from services.identity.face_worker import FACE_QUEUE, run
from services.identity.tests.integration.conftest import (
    SERVICE_TOKEN,
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
)
from shared.events import EventEnvelope
from shared.events.identity import FaceVerificationRequested

pytestmark = pytest.mark.integration

SELFIES = {"kit": face_photo("kit_harington/kit3.jpg")[1], "group": face_photo("multi/kit_with_rose.jpg")[1]}


def _checkin() -> FastAPI:
    app = FastAPI()

    @app.get("/internal/v1/selfies/{name}")
    async def selfie(name: str, authorization: str | None = Header(None)) -> Response:
        if authorization != f"Service {SERVICE_TOKEN}":
            return Response(status_code=401)
        if name not in SELFIES:
            return Response(status_code=404)
        return Response(SELFIES[name], media_type="image/jpeg")

    return app


@pytest_asyncio.fixture(scope="module")
async def workers(identity: RunningIdentity) -> AsyncIterator[int]:
    """Two workers sharing the queue, as two processes would."""
    stop = asyncio.Event()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_checkin()), base_url="http://checkin"
    ) as client:
        tasks = [asyncio.create_task(run(identity.settings, stop=stop, client=client)) for _ in range(2)]
        connection = await aio_pika.connect(identity.amqp_url)
        async with connection:

            async def consumers() -> int:
                # A passive declare of a missing queue closes the channel: one channel per probe.
                try:
                    async with await connection.channel() as channel:
                        declared = await channel.declare_queue(FACE_QUEUE, passive=True)
                except aio_pika.exceptions.ChannelClosed:
                    return 0
                return declared.declaration_result.consumer_count or 0

            for _ in range(200):
                if await consumers() == 2 or any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.1)
            yield await consumers()
        stop.set()
        await asyncio.gather(*tasks)


async def _results(
    identity: RunningIdentity,
) -> tuple[aio_pika.abc.AbstractRobustConnection, aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect_robust(identity.amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind("xueji.events", routing_key="identity.face.verified")
    return connection, queue


async def _results_for(
    queue: aio_pika.abc.AbstractQueue, check_in_ids: set[str]
) -> dict[str, dict[str, object]]:
    """The results by check-in, in whatever order the workers finish them."""
    found: dict[str, dict[str, object]] = {}
    async with asyncio.timeout(60):
        while not check_in_ids <= found.keys():
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            data: dict[str, object] = EventEnvelope.from_bytes(message.body).data
            found[str(data["check_in_id"])] = data
    return found


async def test_face_worker__two_processes_share_one_quorum_queue(workers: int) -> None:
    assert workers == 2


async def test_face_worker__requests_in_results_out(identity: RunningIdentity, workers: int) -> None:
    student = await enrolled_student(identity)
    headers = identity.mint(as_student(student))
    await identity.client.put("/api/v1/me/face-consent", json={"decision": "granted"}, headers=headers)
    captured = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo("kit_harington/kit2.jpeg")}, headers=headers
    )
    assert captured.status_code == 201, captured.text
    assert student.student_id is not None
    connection, queue = await _results(identity)
    async with connection:
        cases = {
            "ci-match": ("kit", hashlib.sha256(SELFIES["kit"]).hexdigest()),
            "ci-group": ("group", hashlib.sha256(SELFIES["group"]).hexdigest()),
            "ci-altered": ("kit", "0" * 64),
        }
        for check_in_id, (name, sha) in cases.items():
            request = FaceVerificationRequested(
                check_in_id=check_in_id,
                student_id=student.student_id,
                selfie_url=f"http://checkin/internal/v1/selfies/{name}",
                selfie_sha256=sha,
            )
            await identity.publish(request, EventEnvelope.wrap(request, source="checkin", province="41"))
        results = await _results_for(queue, set(cases))

    assert results["ci-match"]["outcome"] == "match", json.dumps(results["ci-match"])
    assert results["ci-group"]["outcome"] == "several_faces"
    assert results["ci-altered"]["outcome"] == "poor_image"
    assert str(results["ci-altered"]["reason"]).startswith("selfie_altered")
