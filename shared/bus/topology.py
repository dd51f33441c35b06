"""Exchanges and queues of one province's virtual host (DESIGN.md "Events").

Every declaration is idempotent, so each service declares what it relies on at start and
``deploy/`` can declare the whole set before shovels are configured.
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

EVENTS_EXCHANGE = "xueji.events"
INTERPROVINCE_OUT = "xueji.interprovince.out"
INTERPROVINCE_IN = "xueji.interprovince.in"
# An event that reaches us from a partner with no queue bound for it would be confirmed and
# silently dropped (SERVICES.md); the alternate exchange keeps it where an operator can see it.
INTERPROVINCE_UNROUTED = "xueji.interprovince.unrouted"
DEAD_LETTER_EXCHANGE = "xueji.dlx"


def partner_queue_name(partner: str) -> str:
    return f"xueji.interprovince.to.{partner}"


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}.dlq"


def interprovince_routing_key(to_province: str, event_type: str) -> str:
    return f"{to_province}.{event_type}"


async def declare_exchanges(channel: AbstractChannel) -> dict[str, AbstractExchange]:
    topic = aio_pika.ExchangeType.TOPIC
    unrouted = await channel.declare_exchange(
        INTERPROVINCE_UNROUTED, aio_pika.ExchangeType.FANOUT, durable=True
    )
    unrouted_queue = await channel.declare_queue(
        INTERPROVINCE_UNROUTED, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await unrouted_queue.bind(unrouted)
    return {
        EVENTS_EXCHANGE: await channel.declare_exchange(EVENTS_EXCHANGE, topic, durable=True),
        INTERPROVINCE_OUT: await channel.declare_exchange(INTERPROVINCE_OUT, topic, durable=True),
        INTERPROVINCE_IN: await channel.declare_exchange(
            INTERPROVINCE_IN, topic, durable=True, arguments={"alternate-exchange": INTERPROVINCE_UNROUTED}
        ),
        DEAD_LETTER_EXCHANGE: await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        ),
        INTERPROVINCE_UNROUTED: unrouted,
    }


async def declare_partner_queue(channel: AbstractChannel, partner: str) -> AbstractQueue:
    """The queue a shovel drains towards one partner; events wait here while the partner is down.

    No ``x-delivery-limit``: every shovel restart returns its unacknowledged messages and counts
    toward the limit, which would dead-letter good events (SERVICES.md).
    """
    queue = await channel.declare_queue(
        partner_queue_name(partner), durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(INTERPROVINCE_OUT, routing_key=f"{partner}.#")
    return queue


# The broker's own redelivery limit: a backstop far above any consumer's own attempts
# (XUEJI_DELIVERY_LIMIT, at most MAX_CONSUMER_ATTEMPTS), so the consumer normally dead-letters
# first, with the reason. A constant, not a setting: queue arguments must be identical wherever
# the queue is declared (deploy and every process), or RabbitMQ refuses the declaration.
BROKER_DELIVERY_LIMIT = 20
MAX_CONSUMER_ATTEMPTS = BROKER_DELIVERY_LIMIT - 2


async def declare_consumer_queue(channel: AbstractChannel, name: str) -> tuple[AbstractQueue, AbstractQueue]:
    """A consumer's quorum queue and its dead-letter queue.

    The consumer itself dead-letters with the reason after its configured attempts; the broker's
    limit is the backstop for a message that kills the process before the consumer can record
    anything (RabbitMQ 3.10 counts N+1 deliveries for a limit of N: STACK.md).
    """
    dlq = await channel.declare_queue(
        dead_letter_queue_name(name), durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dlq.bind(DEAD_LETTER_EXCHANGE, routing_key=dead_letter_queue_name(name))
    queue = await channel.declare_queue(
        name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": BROKER_DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": dead_letter_queue_name(name),
        },
    )
    return queue, dlq
