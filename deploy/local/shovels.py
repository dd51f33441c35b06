"""The dynamic shovels that carry each province's outgoing partner queue to the partner's
``xueji.interprovince.in`` exchange (DESIGN.md "Across provinces"), and their health check.

Configured through ``rabbitmqctl`` on this machine (the management API is not needed). What
the shovel does when things go wrong is in ../shared/SERVICES.md: a missing destination
exchange wedges it while it still reports ``running`` — hence ``restart_stuck_shovels``.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from shared.bus.topology import INTERPROVINCE_IN, partner_queue_name


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
