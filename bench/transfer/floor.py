"""The floor of a cross-province step, measured on the same broker and shovels as the bench: one
event signed by the sending province, published (persistent, confirmed) to its outgoing
exchange, carried by the shovel to the partner's virtual host, consumed there and its signature
verified. No database, no HTTP, no outbox: what any transfer pays at the least per hop."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aio_pika

from deploy.local.layout import AMQP_SERVER, Deployment
from shared.bus.topology import INTERPROVINCE_IN, INTERPROVINCE_OUT, interprovince_routing_key
from shared.signing import Signer, TrustStore

FLOOR_EVENT = "bench.floor.round_trip"


async def _one_way(deployment: Deployment, sender: str, receiver: str, count: int) -> list[float]:
    signer = Signer.from_key_file(sender, deployment.keys_dir(sender) / "signing.pem")
    trust = TrustStore.from_registry(deployment.partners_file(receiver))
    routing_key = interprovince_routing_key(receiver, FLOOR_EVENT)
    out_connection = await aio_pika.connect(f"{AMQP_SERVER}/{deployment.vhost(sender)}")
    in_connection = await aio_pika.connect(f"{AMQP_SERVER}/{deployment.vhost(receiver)}")
    async with out_connection, in_connection:
        out_channel = await out_connection.channel(publisher_confirms=True)
        exchange = await out_channel.get_exchange(INTERPROVINCE_OUT)
        in_channel = await in_connection.channel()
        queue = await in_channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(INTERPROVINCE_IN, routing_key=routing_key)
        arrived: asyncio.Queue[tuple[aio_pika.abc.AbstractIncomingMessage, float]] = asyncio.Queue()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await arrived.put((message, time.perf_counter()))

        await queue.consume(on_message)
        latencies: list[float] = []
        for n in range(count):
            body = json.dumps({"event_id": str(uuid.uuid4()), "n": n, "padding": "x" * 600}).encode()
            started = time.perf_counter()
            await exchange.publish(
                aio_pika.Message(
                    body,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers=dict(signer.headers_for(receiver, body)),
                    message_id=str(uuid.uuid4()),
                ),
                routing_key=routing_key,
            )
            message, at = await asyncio.wait_for(arrived.get(), 30)
            trust.verify(dict(message.headers), message.body, my_province=receiver, claimed_province=sender)
            await message.ack()
            latencies.append(at - started)
        return latencies


async def floor_round_trips(deployment: Deployment, count: int) -> list[float]:
    """``count`` one-at-a-time trips, spread over every ordered pair of provinces; seconds each."""
    provinces = deployment.provinces
    pairs = [(a, b) for a in provinces for b in provinces if a != b]
    latencies: list[float] = []
    for index, (sender, receiver) in enumerate(pairs):
        share = count // len(pairs) + (1 if index < count % len(pairs) else 0)
        latencies += await _one_way(deployment, sender, receiver, share)
    return latencies
