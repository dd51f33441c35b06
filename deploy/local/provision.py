"""Everything a local deployment needs before its processes start: keys, partner registries,
seed files with passwords, virtual hosts, exchanges and queues, and the inter-province shovels.

Idempotent: running it again keeps existing keys and passwords.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import secrets
import shutil
import subprocess
import sys

import aio_pika

from deploy.local.certificate_ca import ensure_demo_ca
from deploy.local.layout import AMQP_SERVER, SERVICES, Deployment, read_seed
from deploy.local.partners import ensure_partner_registries
from deploy.local.shovels import ShovelSpec, heal_shovel, remove_shovel
from services.certificates.numbers import create_number_key_file
from shared.bus.consumer import declare_service_queues
from shared.bus.topology import declare_exchanges, declare_partner_queue
from shared.partner_registry import read_registry
from shared.service import ServiceSpec
from shared.signing import generate_private_key_file, key_id_of, load_private_key


def service_specs() -> list[ServiceSpec]:
    """Every service's spec, for the queues and bindings its handlers need."""
    return [importlib.import_module(f"services.{name}.app").SPEC for name in SERVICES]


def ensure_keys(deployment: Deployment) -> None:
    for province in deployment.provinces:
        token = deployment.keys_dir(province) / "service.token"
        if not token.exists():
            token.parent.mkdir(parents=True, exist_ok=True)
            token.write_text(secrets.token_urlsafe(32))
            token.chmod(0o600)
    # One HMAC key per deployment, shared by its provinces: ID digests must agree across
    # provinces for the cross-province duplicate check (services/enrollment/dedupe.py).
    dedupe_key = deployment.dedupe_key_file
    if not dedupe_key.exists():
        dedupe_key.parent.mkdir(parents=True, exist_ok=True)
        dedupe_key.write_text(secrets.token_hex(32))
        dedupe_key.chmod(0o600)
    for province in deployment.provinces:
        keys = deployment.keys_dir(province)
        for name in ("signing.pem", "jwt.pem"):
            if not (keys / name).exists():
                generate_private_key_file(keys / name)
        (keys / "signing.kid").write_text(key_id_of(province, load_private_key(keys / "signing.pem")))
        # The demo CA's signing certificate and QR payload key of the province's certificates,
        # and the key of its certificate numbers (an existing one is kept: a new key could repeat
        # serials already issued).
        ensure_demo_ca(deployment.certificate_ca_dir, province)
        create_number_key_file(deployment.certificate_number_key_file(province))
    ensure_partner_registries(deployment)


def ensure_seed_files(deployment: Deployment) -> list[dict[str, str]]:
    """Seed files with a password on every account; returns the accounts as people need them."""
    accounts_file = deployment.home / "accounts.json"
    known: dict[str, str] = {}
    if accounts_file.exists():
        known = {a["username"]: a["password"] for a in json.loads(accounts_file.read_text())}
    listed: list[dict[str, str]] = []
    for province in deployment.provinces:
        seed = read_seed(province)
        for account in seed["accounts"]:
            account["password"] = known.get(account["username"]) or secrets.token_urlsafe(12)
            listed.append(
                {
                    "province": province,
                    "role": account["role"],
                    "organisation": account["org"],
                    "username": account["username"],
                    "password": account["password"],
                    "display_name": account.get("display_name", ""),
                }
            )
        path = deployment.keys_dir(province) / "seed.json"
        path.write_text(json.dumps(seed, ensure_ascii=False, indent=1))
        path.chmod(0o600)
    accounts_file.write_text(json.dumps(listed, ensure_ascii=False, indent=1))
    accounts_file.chmod(0o600)
    return listed


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def ensure_vhosts(deployment: Deployment) -> None:
    for province in deployment.provinces:
        _rabbitmqctl("add_vhost", deployment.vhost(province))
        _rabbitmqctl("set_permissions", "-p", deployment.vhost(province), "guest", ".*", ".*", ".*")


async def declare_topologies(deployment: Deployment) -> None:
    """Exchanges and partner queues exist before any shovel points at them (a shovel whose
    destination exchange is missing wedges: SERVICES.md)."""
    for province in deployment.provinces:
        connection = await aio_pika.connect(f"{AMQP_SERVER}/{deployment.vhost(province)}")
        async with connection:
            channel = await connection.channel()
            await declare_exchanges(channel)
            for partner in deployment.partners(province):
                await declare_partner_queue(channel, partner)
            for spec in service_specs():
                if spec.subscriptions is not None:
                    await declare_service_queues(channel, spec.name, spec.subscriptions, province)


def ensure_shovels(deployment: Deployment) -> dict[str, str]:
    """Create missing shovels and repair wedged ones; returns what was done per shovel. Each
    shovel delivers where the province's partner registry says (``broker_uri``)."""
    outcomes: dict[str, str] = {}
    for province in deployment.provinces:
        for partner in read_registry(deployment.partners_file(province)).partners:
            spec = ShovelSpec(
                source_vhost=deployment.vhost(province),
                partner=partner.code,
                destination_uri=partner.broker_uri,
            )
            outcomes[f"{province}->{partner.code}"] = heal_shovel(
                spec, f"{AMQP_SERVER}/{deployment.vhost(partner.code)}"
            )
    return outcomes


def provision(deployment: Deployment) -> list[dict[str, str]]:
    deployment.home.mkdir(parents=True, exist_ok=True)
    ensure_keys(deployment)
    accounts = ensure_seed_files(deployment)
    ensure_vhosts(deployment)
    asyncio.run(declare_topologies(deployment))
    ensure_shovels(deployment)
    return accounts


def deprovision(deployment: Deployment, *, drop_databases: bool) -> None:
    """Remove the shovels, then the virtual hosts (a running shovel would re-create a deleted
    source queue as a classic queue), then — when asked — the databases and files."""
    from shared.db import drop_database

    for province in deployment.provinces:
        for partner in deployment.partners(province):
            remove_shovel(deployment.vhost(province), partner)
    for province in deployment.provinces:
        deleted = subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", deployment.vhost(province)], capture_output=True, timeout=60
        )
        if deleted.returncode != 0 and b"does not exist" not in deleted.stderr + deleted.stdout:
            # Not fatal (the databases and files still go), but a leftover must not pass unseen.
            print(
                f"deprovision: virtual host {deployment.vhost(province)} not deleted: "
                f"{(deleted.stderr or deleted.stdout).decode(errors='replace').strip()}",
                file=sys.stderr,
            )
    if drop_databases:
        for province in deployment.provinces:
            for service in SERVICES:
                drop_database(deployment.database_url(province, service))
        shutil.rmtree(deployment.home, ignore_errors=True)
        shutil.rmtree(deployment.trace_dir, ignore_errors=True)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Provision a deployment's keys, broker topology and shovels."
    )
    parser.add_argument("--compose", action="store_true", help="inside docker compose (management API)")
    args = parser.parse_args()
    if args.compose:
        from deploy.local.compose_provision import provision_compose

        provision_compose()
    else:
        from deploy.local.stack import demo_deployment

        provision(demo_deployment())


if __name__ == "__main__":
    main()
