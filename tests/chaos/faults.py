"""The faults the chaos test injects into a running deployment, and the broker's view afterwards.

Processes are killed with SIGKILL (no clean shutdown, no final commit or ack) and started again
the way ``deploy/local/stack.py`` starts them. The broker restart stops and starts the RabbitMQ
application on the node (the data, queues and shovel definitions on disk survive, connections do
not), so every process must reconnect by itself. A shovel is deleted and re-created as an
operator would: ``ensure_shovels``, the same repair ``stack heal`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time

import aio_pika
import httpx

from deploy.local.layout import AMQP_SERVER, SERVICES, Deployment
from deploy.local.provision import ensure_shovels
from deploy.local.shovels import remove_shovel
from deploy.local.stack import running_pid, start_process, stop_process, why_stopped
from shared.bus.consumer import DEAD_CONSUMER_HEADER, DEAD_REASON_HEADER

READY_SECONDS = 120.0


def _rabbitmqctl(*args: str, timeout: float = 120) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=timeout
    ).stdout


def kill_and_restart(deployment: Deployment, province: str, service: str, *, down_seconds: float) -> None:
    """``kill -9`` the process (its whole process group), leave it down a while and start it
    again; it comes up on its own while the next fault is injected (``wait_all_ready``)."""
    assert running_pid(deployment, province, service) is not None, f"{service}-{province} was not running"
    stop_process(deployment, province, service, sig=signal.SIGKILL)
    time.sleep(down_seconds)
    start_process(deployment, province, service)


def wait_all_ready(deployment: Deployment) -> None:
    """Every service of every province answers ``/readyz`` (a restarted one may still be starting)."""
    deadline = time.monotonic() + READY_SECONDS
    for province in deployment.provinces:
        for service in SERVICES:
            url = f"{deployment.base_url(province, service)}/readyz"
            while True:
                if running_pid(deployment, province, service) is None:
                    why = why_stopped(deployment, province, service)
                    raise RuntimeError(f"{service}-{province} is not running: {why}")
                with contextlib.suppress(httpx.HTTPError):  # still starting
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{service}-{province} not ready {READY_SECONDS:.0f} s after its restart"
                    )
                time.sleep(0.5)


def restart_broker() -> None:
    """Stop and start RabbitMQ (SERVICES.md); always leaves it started, even if the stop failed."""
    try:
        _rabbitmqctl("stop_app")
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")


def delete_and_recreate_shovel(
    deployment: Deployment, province: str, partner: str, *, gone_seconds: float
) -> dict[str, str]:
    """Remove the shovel from ``province`` to ``partner``; events for the partner pile up in the
    partner queue meanwhile; then the operator's repair re-creates it."""
    remove_shovel(deployment.vhost(province), partner)
    time.sleep(gone_seconds)
    return ensure_shovels(deployment)


def queue_depths(deployment: Deployment) -> dict[str, dict[str, int]]:
    """vhost → queue → messages (ready + unacknowledged) for every queue of the deployment."""
    depths: dict[str, dict[str, int]] = {}
    for province in deployment.provinces:
        vhost = deployment.vhost(province)
        rows = json.loads(
            _rabbitmqctl("list_queues", "-p", vhost, "name", "messages", "--formatter", "json") or "[]"
        )
        depths[vhost] = {str(row["name"]): int(row["messages"]) for row in rows}
    return depths


def dead_letters(deployment: Deployment) -> dict[str, list[dict[str, object]]]:
    """Every message in a dead-letter or unrouted queue, with the reason the consumer recorded,
    peeked with basic.get and put back (no management API needed)."""
    depths = queue_depths(deployment)
    found: dict[str, list[dict[str, object]]] = {}

    async def peek(vhost: str, queue_name: str, count: int) -> list[dict[str, object]]:
        connection = await aio_pika.connect(f"{AMQP_SERVER}/{vhost}")
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=False)
            messages: list[dict[str, object]] = []
            held = []
            for _ in range(count):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                held.append(message)
                messages.append(
                    {
                        "type": message.type,
                        "routing_key": message.routing_key,
                        "consumer": message.headers.get(DEAD_CONSUMER_HEADER),
                        "reason": message.headers.get(DEAD_REASON_HEADER),
                    }
                )
            for message in held:  # leave them where an operator looks
                await message.nack(requeue=True)
            return messages

    for vhost, queues in depths.items():
        for name, messages in queues.items():
            if messages and (name.endswith(".dlq") or name == "xueji.interprovince.unrouted"):
                found[f"{vhost}/{name}"] = asyncio.run(peek(vhost, name, min(messages, 20)))
    return found
