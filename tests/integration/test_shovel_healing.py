"""The shovel between two provinces: what SERVICES.md says goes wrong, and that we repair it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aio_pika
import pytest

from deploy.local.shovels import ShovelSpec, apply_shovel, heal_shovel, remove_shovel
from shared.bus.topology import (
    INTERPROVINCE_OUT,
    INTERPROVINCE_UNROUTED,
    declare_exchanges,
    declare_partner_queue,
)
from shared.testing import temporary_vhost, unique_name


@pytest.fixture
def two_provinces() -> Iterator[tuple[str, str, str, str]]:
    """(vhost 41, url 41, vhost 37, url 37); the shovel is removed before the vhosts."""
    v41, v37 = unique_name("xjt41"), unique_name("xjt37")
    with temporary_vhost(v41) as url41, temporary_vhost(v37) as url37:
        try:
            yield v41, url41, v37, url37
        finally:
            remove_shovel(v41, "37")


async def _publish_for_partner(url: str, body: bytes) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await declare_exchanges(channel)
        await declare_partner_queue(channel, "37")
        exchange = await channel.get_exchange(INTERPROVINCE_OUT)
        await exchange.publish(aio_pika.Message(body), routing_key="37.testing.thing.happened")


async def _get(url: str, queue: str) -> bytes | None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        try:
            message = await (await channel.get_queue(queue, ensure=True)).get(fail=False)
        except aio_pika.exceptions.ChannelClosed:
            return None
        if message is None:
            return None
        await message.ack()
        return message.body


def _wait_for(url: str, queue: str, seconds: float) -> bytes | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = asyncio.run(_get(url, queue))
        if body is not None:
            return body
        time.sleep(0.3)
    return None


def test_heal_shovel__restarts_a_shovel_wedged_by_a_missing_exchange(
    two_provinces: tuple[str, str, str, str],
) -> None:
    v41, url41, v37, url37 = two_provinces
    spec = ShovelSpec(source_vhost=v41, partner="37", destination_uri=f"amqp:///{v37}")
    # 37 has not declared its receiving exchange yet: the shovel starts and wedges.
    asyncio.run(_publish_for_partner(url41, b"event-1"))
    apply_shovel(spec)
    time.sleep(3)
    assert asyncio.run(_get(url37, INTERPROVINCE_UNROUTED)) is None  # nothing moved

    outcome = heal_shovel(spec, url37)

    assert outcome == "restarted: destination exchange was missing"
    # Declared with an alternate exchange, 37 keeps an event no consumer is bound for.
    assert _wait_for(url37, INTERPROVINCE_UNROUTED, 20) == b"event-1"


def test_heal_shovel__leaves_a_healthy_shovel_alone(two_provinces: tuple[str, str, str, str]) -> None:
    v41, url41, v37, url37 = two_provinces
    spec = ShovelSpec(source_vhost=v41, partner="37", destination_uri=f"amqp:///{v37}")
    asyncio.run(_publish_for_partner(url41, b"event-2"))  # declares the source queue first
    assert heal_shovel(spec, url37) == "created"
    assert _wait_for(url37, INTERPROVINCE_UNROUTED, 20) == b"event-2"
    assert heal_shovel(spec, url37) == "ok"
