"""Provisioning for ``docker compose``: the same keys, seed files, vhosts, topology and shovels
as the local launcher, but through RabbitMQ's management HTTP API (no ``rabbitmqctl`` in the
container) and with the stack's own broker user (``guest`` works only over loopback).

Run by the compose file's one-shot ``provision`` service; its settings come from
``XUEJI_KEYS_DIR``, ``XUEJI_RABBITMQ_AMQP_URL``, ``XUEJI_RABBITMQ_MANAGEMENT_URL``,
``XUEJI_RABBITMQ_USER`` and ``XUEJI_RABBITMQ_PASSWORD`` (docs/configuration.md).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from urllib.parse import quote

import aio_pika
import httpx

from deploy.local.layout import Deployment
from deploy.local.provision import ensure_keys, ensure_seed_files, service_specs
from deploy.local.shovels import ShovelSpec, shovel_name
from services.identity.faces.templates import load_or_create_key_file
from shared.bus.consumer import declare_service_queues
from shared.bus.topology import declare_exchanges, declare_partner_queue
from shared.partner_registry import read_registry


def _api(management_url: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{management_url}/api", auth=(user, password), timeout=10)
    deadline = time.monotonic() + 120
    while True:  # the management plugin answers a little after the broker's health check
        try:
            client.get("/overview").raise_for_status()
            return client
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


async def _declare(amqp_url: str, deployment: Deployment, province: str) -> None:
    connection = await aio_pika.connect(f"{amqp_url}/{deployment.vhost(province)}")
    async with connection:
        channel = await connection.channel()
        await declare_exchanges(channel)
        for partner in deployment.partners(province):
            await declare_partner_queue(channel, partner)
        for spec in service_specs():
            if spec.subscriptions is not None:
                await declare_service_queues(channel, spec.name, spec.subscriptions, province)


def provision_compose() -> None:
    keys_dir = Path(os.environ.get("XUEJI_KEYS_DIR", "/keys"))
    amqp_url = os.environ["XUEJI_RABBITMQ_AMQP_URL"]
    user = os.environ.get("XUEJI_RABBITMQ_USER", "xueji")
    password = os.environ["XUEJI_RABBITMQ_PASSWORD"]
    deployment = Deployment(
        name="compose",
        root=keys_dir,
        keys_root=keys_dir,
        vhost_template="xueji_{province}",
        # Shovels run inside the broker's own container: credentials needed, there is no guest.
        broker_uri_template=f"amqp://{quote(user)}:{quote(password)}@localhost:5672/{{vhost}}",
    )
    deployment.home.mkdir(parents=True, exist_ok=True)
    ensure_keys(deployment)
    ensure_seed_files(deployment)
    for province in deployment.provinces:
        # The services mount /keys read-only: identity's face-template key must exist first.
        load_or_create_key_file(deployment.keys_dir(province) / "face-templates.json")
    api = _api(os.environ.get("XUEJI_RABBITMQ_MANAGEMENT_URL", "http://rabbitmq:15672"), user, password)
    for province in deployment.provinces:
        vhost = quote(deployment.vhost(province), safe="")
        api.put(f"/vhosts/{vhost}").raise_for_status()
        api.put(
            f"/permissions/{vhost}/{quote(user, safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        asyncio.run(_declare(amqp_url, deployment, province))
    for province in deployment.provinces:
        # Each shovel delivers where the province's partner registry says.
        for partner in read_registry(deployment.partners_file(province)).partners:
            definition = ShovelSpec(deployment.vhost(province), partner.code, partner.broker_uri).definition()
            definition["src-uri"] = deployment.broker_uri(province)
            vhost = quote(deployment.vhost(province), safe="")
            api.put(
                f"/parameters/shovel/{vhost}/{shovel_name(partner.code)}",
                json={"value": definition},
            ).raise_for_status()
    provinces = ", ".join(deployment.provinces)
    print(f"provisioned provinces {provinces}; accounts in {deployment.home / 'accounts.json'}")
