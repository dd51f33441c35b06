"""Three provinces, each partner behind its own queue and shovel: while 37 is down, 41's events
for 37 wait in 41's queue and its events for 44 still arrive; when 37 returns, the waiting
events arrive, each applied once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

import aio_pika
import pytest

from deploy.local.layout import Deployment
from deploy.local.provision import ensure_shovels
from deploy.local.shovels import shovel_states
from shared.bus.topology import partner_queue_name
from shared.signing import Signer
from shared.testing import eventually
from shared.tests.integration.support import ThingHappened, consumed
from tests.integration.conftest import MakeDeployment
from tests.integration.provinces import (
    Receiver,
    amqp_url,
    bring_back,
    declare_province,
    publish_signed,
    signed_event,
    take_down,
)

pytestmark = pytest.mark.integration

WAITING = 5


async def _applied(receiver: Receiver, count: int) -> list[UUID]:
    async def probe() -> list[UUID] | None:
        found = [e.event_id for e in await receiver.effects() if e.event_id is not None]
        return found if len(found) >= count else None

    return await eventually(probe, within=60)


async def test_partner_down__its_events_wait_others_flow_and_all_arrive_once_it_returns(
    make_deployment: MakeDeployment, make_receiver: Callable[[Deployment, str], Receiver]
) -> None:
    deployment = make_deployment(("41", "37", "44"))
    for province in deployment.provinces:
        await declare_province(deployment, province)
    receivers = {p: make_receiver(deployment, p) for p in ("37", "44")}
    for receiver in receivers.values():
        await receiver.start()
    outcomes = await asyncio.to_thread(ensure_shovels, deployment)
    assert set(outcomes.values()) == {"created"}, outcomes
    henan = Signer.from_key_file("41", deployment.keys_dir("41") / "signing.pem")
    connection = await aio_pika.connect(amqp_url(deployment, "41"))
    async with connection:
        channel = await connection.channel()

        async def send(to: str, n: int) -> UUID:
            envelope, body, headers = signed_event(henan, to, n)
            await publish_signed(channel, envelope, body, headers, to=to, outgoing=True)
            return envelope.id

        first = {to: await send(to, 0) for to in ("37", "44")}
        assert await _applied(receivers["37"], 1) == [first["37"]]
        assert await _applied(receivers["44"], 1) == [first["44"]]

        await receivers["37"].stop()
        await asyncio.to_thread(take_down, deployment, "37")
        for_37 = [await send("37", n) for n in range(1, WAITING + 1)]
        for_44 = [await send("44", n) for n in range(1, WAITING + 1)]

        # 44 is not held up by 37 ...
        assert set(await _applied(receivers["44"], 1 + WAITING)) == {first["44"], *for_44}
        # ... while 41 keeps 37's events, unacknowledged by no one: the shovel cannot connect.
        waiting_queue = await channel.declare_queue(partner_queue_name("37"), passive=True)
        assert waiting_queue.declaration_result.message_count == WAITING
        assert shovel_states(deployment.vhost("41"))["to-37"] != "running"
        assert [e.event_id for e in await receivers["37"].effects()] == [first["37"]]

        await asyncio.to_thread(bring_back, deployment, "37")
        await receivers["37"].start()

        # The shovel reconnects by itself; nobody heals it.
        assert set(await _applied(receivers["37"], 1 + WAITING)) == {first["37"], *for_37}

        # Once: a shovel re-sends what it had not had confirmed when it lost its partner;
        # the receiver's inbox absorbs such a copy.
        async def delivered() -> bool:
            queue = await channel.declare_queue(partner_queue_name("37"), passive=True)
            return queue.declaration_result.message_count == 0

        await eventually(delivered)
        envelope, body, headers = signed_event(henan, "37", 99)
        for _ in range(2):  # a redelivered copy, same event id
            await publish_signed(channel, envelope, body, headers, to="37", outgoing=True)
        await _applied(receivers["37"], 2 + WAITING)

        async def copy_seen() -> bool:
            return consumed(receivers["37"].queue_name, ThingHappened.event_type, "duplicate") == 1

        await eventually(copy_seen)
        assert await receivers["37"].inbox_count() == 2 + WAITING
        ids = [e.event_id for e in await receivers["37"].effects()]
        assert len(ids) == len(set(ids)) == 2 + WAITING
        assert len(await receivers["44"].effects()) == 1 + WAITING
