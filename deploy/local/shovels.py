"""The dynamic shovels that carry each province's outgoing partner queue to the partner's
``xueji.interprovince.in`` exchange (DESIGN.md "Across provinces"), and their health check.

Configured through ``rabbitmqctl`` on this machine (the management API is not needed). What
the shovel does when things go wrong is in ../shared/SERVICES.md: a missing destination
exchange wedges it while it still reports ``running`` — hence ``restart_stuck_shovels``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass

import aio_pika
import aio_pika.exceptions

from shared.bus.topology import INTERPROVINCE_IN, declare_exchanges, partner_queue_name


def shovel_name(partner: str) -> str:
    return f"to-{partner}"


@dataclass(frozen=True)
class ShovelSpec:
    source_vhost: str
    partner: str
    destination_uri: str

    def definition(self) -> dict[str, object]:
        return {
            "src-protocol": "amqp091",
            "src-uri": f"amqp:///{self.source_vhost}",
            "src-queue": partner_queue_name(self.partner),
            "dest-protocol": "amqp091",
            "dest-uri": self.destination_uri,
            "dest-exchange": INTERPROVINCE_IN,
            # Confirmed by the partner broker before acknowledged here: nothing lost in between.
            "ack-mode": "on-confirm",
            "reconnect-delay": 2,
        }


def _rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def apply_shovel(spec: ShovelSpec) -> None:
    _rabbitmqctl(
        "set_parameter",
        "-p",
        spec.source_vhost,
        "shovel",
        shovel_name(spec.partner),
        json.dumps(spec.definition()),
    )


def remove_shovel(source_vhost: str, partner: str) -> None:
    subprocess.run(
        ["rabbitmqctl", "-q", "clear_parameter", "-p", source_vhost, "shovel", shovel_name(partner)],
        capture_output=True,
        timeout=60,
    )


def shovel_states(vhost: str) -> dict[str, str]:
    out = _rabbitmqctl("shovel_status", "--formatter", "json")
    rows = json.loads(out or "[]")
    return {str(r["name"]): str(r["state"]) for r in rows if r.get("vhost") == vhost}


def restart_shovel(vhost: str, partner: str) -> None:
    _rabbitmqctl("restart_shovel", "-p", vhost, shovel_name(partner))


def _source_queue_counts(vhost: str, partner: str) -> tuple[int, int]:
    """(ready, unacknowledged) messages in the partner queue the shovel drains."""
    rows = json.loads(
        _rabbitmqctl(
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "--formatter",
            "json",
        )
        or "[]"
    )
    for row in rows:
        if row["name"] == partner_queue_name(partner):
            return int(row["messages_ready"]), int(row["messages_unacknowledged"])
    return 0, 0


async def _ensure_destination_exchange(destination_amqp_url: str) -> bool:
    """Declare the partner's receiving exchanges; True when they had been missing."""
    connection = await aio_pika.connect(destination_amqp_url)
    async with connection:
        channel = await connection.channel()
        try:
            await channel.get_exchange(INTERPROVINCE_IN, ensure=True)
            missing = False
        except aio_pika.exceptions.ChannelClosed:
            missing = True
            channel = await connection.channel()
        await declare_exchanges(channel)
        return missing


def heal_shovel(spec: ShovelSpec, destination_amqp_url: str, *, sample_seconds: float = 2.0) -> str:
    """Put one shovel right; returns what was done ("ok", "created", "restarted: <why>").

    A shovel whose destination exchange vanished keeps saying ``running`` while it holds its
    messages unacknowledged forever, even after the exchange is back (SERVICES.md); only a
    restart releases them. Restarting re-sends the unacknowledged messages, which the
    receivers' inboxes absorb, so a restart is always safe.
    """
    states = shovel_states(spec.source_vhost)
    name = shovel_name(spec.partner)
    exchange_was_missing = asyncio.run(_ensure_destination_exchange(destination_amqp_url))
    if name not in states:
        apply_shovel(spec)
        return "created"
    if states[name] != "running":
        restart_shovel(spec.source_vhost, spec.partner)
        return f"restarted: state was {states[name]}"
    if exchange_was_missing:
        restart_shovel(spec.source_vhost, spec.partner)
        return "restarted: destination exchange was missing"
    before = _source_queue_counts(spec.source_vhost, spec.partner)
    if before[1] == 0:
        return "ok"
    time.sleep(sample_seconds)
    if _source_queue_counts(spec.source_vhost, spec.partner) == before:
        restart_shovel(spec.source_vhost, spec.partner)
        return f"restarted: {before[1]} messages unacknowledged without progress"
    return "ok"
