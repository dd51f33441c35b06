"""A province's transfer service running in-process against the real servers: its own database
and virtual host (removed afterwards), tokens from a test issuer, and a way to play the other
services by publishing their events on the broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aio_pika
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select

from deploy.local.shovels import ShovelSpec, apply_shovel, remove_shovel
from services.transfer.app import SPEC
from services.transfer.models import SchoolView
from shared.auth import Principal, Role, StaticJwksVerifier, TokenIssuer
from shared.bus.tables import OutboxMessage
from shared.bus.topology import EVENTS_EXCHANGE, INTERPROVINCE_OUT, interprovince_routing_key
from shared.events import EventEnvelope, EventPayload
from shared.events.common import Lineage
from shared.events.enrollment import SchoolRegistered
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from shared.signing import Signer, generate_private_key_file, public_key_b64
from shared.testing import eventually, temporary_database, temporary_vhost, unique_name


@dataclass
class Province:
    """One province's transfer service under test."""

    code: str
    app: FastAPI
    client: httpx.AsyncClient
    amqp_url: str
    vhost: str
    issuer: TokenIssuer
    signer: Signer

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    def headers(self, role: Role, org: str, username: str | None = None) -> dict[str, str]:
        principal = Principal(
            account_id=unique_name("acct"),
            username=username or f"{self.code}-{role.value}-{org}",
            role=role,
            org=org,
            province=self.code,
        )
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    async def publish(
        self,
        payload: EventPayload,
        *,
        source: str = "enrollment",
        to_province: str | None = None,
        correlation_id: UUID | None = None,
    ) -> EventEnvelope:
        """Publish an event as another service of this province would (partner events signed,
        through the inter-province exchange, so the shovel carries them)."""
        envelope = EventEnvelope.wrap(
            payload, source=source, province=self.code, correlation_id=correlation_id
        )
        body = envelope.to_bytes()
        if to_province is None:
            exchange_name, routing_key, headers = EVENTS_EXCHANGE, envelope.type, {}
        else:
            exchange_name = INTERPROVINCE_OUT
            routing_key = interprovince_routing_key(to_province, envelope.type)
            headers = self.signer.headers_for(to_province, body)
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name)
            await exchange.publish(
                aio_pika.Message(
                    body=body, headers=dict(headers), type=envelope.type, message_id=str(envelope.id)
                ),
                routing_key=routing_key,
                mandatory=True,
            )
        return envelope

    async def register_school(self, lineage: Lineage, name: str) -> None:
        """Enrollment registers a school; wait until the transfer service keeps it."""
        await self.publish(SchoolRegistered(lineage=lineage, name=name, school_type="secondary_vocational"))

        async def kept() -> SchoolView | None:
            async with self.ctx.sessionmaker() as session:
                return await session.get(SchoolView, lineage.school)

        await eventually(kept)

    async def dead_letters(self) -> int:
        """Messages the transfer service's consumers gave up on."""
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            total = 0
            for queue in ("transfer.events.dlq", "transfer.interprovince.dlq"):
                declared = await channel.declare_queue(queue, passive=True)
                total += declared.declaration_result.message_count or 0
            return total

    async def outbox(self, transfer_id: str | None = None) -> list[OutboxMessage]:
        async with self.ctx.sessionmaker() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))
        if transfer_id is None:
            return rows
        return [row for row in rows if json.loads(row.body).get("data", {}).get("transfer_id") == transfer_id]


@dataclass(frozen=True)
class ProvinceKeys:
    code: str
    key_id: str
    key_file: Path
    key: Ed25519PrivateKey


def make_keys(code: str, directory: Path) -> ProvinceKeys:
    key_file = directory / f"{code}-signing.pem"
    return ProvinceKeys(code, f"{code}-k-test", key_file, generate_private_key_file(key_file))


def write_trust_file(directory: Path, trusting: str, partners: list[ProvinceKeys]) -> Path:
    path = directory / f"{trusting}-trust.json"
    path.write_text(
        json.dumps(
            {
                k.key_id: {"province": k.code, "alg": "Ed25519", "public_key": public_key_b64(k.key)}
                for k in partners
            }
        )
    )
    return path


@asynccontextmanager
async def running_province(
    keys: ProvinceKeys, partners: list[ProvinceKeys], directory: Path
) -> AsyncIterator[Province]:
    """The transfer service of one province, started with its lifespan, and removed after."""
    async with AsyncExitStack() as stack:
        vhost = unique_name(f"xjt_transfer_{keys.code}")
        amqp_url = stack.enter_context(temporary_vhost(vhost))
        database_url = stack.enter_context(temporary_database(unique_name(f"xjt_transfer_{keys.code}")))
        settings = Settings(
            service="transfer",
            province=keys.code,
            database_url=database_url,
            amqp_url=amqp_url,
            redis_prefix=f"{vhost}:",
            partners=[p.code for p in partners],
            signing_key_file=keys.key_file,
            signing_key_id=keys.key_id,
            trust_file=write_trust_file(directory, keys.code, partners),
            trace_dir=directory / "traces",
            delivery_limit=10,
        )
        app = create_app(SPEC, settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        issuer = TokenIssuer(
            keys.code, {"jwt-test": Ed25519PrivateKey.generate()}, "jwt-test", lifetime=timedelta(minutes=30)
        )
        app.state.jwt_verifier = StaticJwksVerifier(issuer.jwks(), keys.code)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://transfer.test")
        )
        yield Province(
            code=keys.code,
            app=app,
            client=client,
            amqp_url=amqp_url,
            vhost=vhost,
            issuer=issuer,
            signer=Signer(keys.code, keys.key_id, keys.key),
        )


async def _set_shovel(source: Province, destination: Province) -> None:
    spec = ShovelSpec(source.vhost, destination.code, f"amqp:///{destination.vhost}")
    await asyncio.to_thread(apply_shovel, spec)


async def _clear_shovel(source: Province, destination: Province) -> None:
    await asyncio.to_thread(remove_shovel, source.vhost, destination.code)


@asynccontextmanager
async def shovel(source: Province, destination: Province) -> AsyncIterator[None]:
    """A dynamic shovel from ``source``'s queue for ``destination`` to its inbound exchange, as
    deploy/ sets them up between two provinces' brokers."""
    await _set_shovel(source, destination)
    try:
        yield
    finally:
        # Shovels go before their queues (SERVICES.md); the vhost goes after.
        await _clear_shovel(source, destination)


@asynccontextmanager
async def shovel_paused(source: Province, destination: Province) -> AsyncIterator[None]:
    """The link from ``source`` to ``destination`` down for a while: messages wait in the queue."""
    await _clear_shovel(source, destination)
    try:
        yield
    finally:
        await _set_shovel(source, destination)


def data_of(row: OutboxMessage) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(row.body)["data"]
    return data
