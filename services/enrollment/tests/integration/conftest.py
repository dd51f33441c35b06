"""Enrollment of two provinces, 37 and 41, each running in-process against its own temporary
database and virtual host on the real servers. The apps trust a test token issuer, and each
trusts the other's signing key, so the tests can play identity, the transfer service and the
partner province."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.enrollment.app import SPEC
from shared.auth import Role, StaticJwksVerifier, TokenIssuer
from shared.bus.tables import OutboxMessage
from shared.bus.topology import INTERPROVINCE_IN, interprovince_routing_key
from shared.china_time import today_in_china
from shared.events import EventEnvelope, EventPayload
from shared.idnumber import make_resident_id
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from shared.signing import Signer, generate_private_key_file, public_key_b64
from shared.testing import (
    make_principal,
    outbox_rows,
    publish_event,
    publish_message,
    temporary_database,
    temporary_vhost,
    unique_name,
    wait_until_applied,
)

REPO = Path(__file__).resolve().parents[4]
SCHOOL = {"37": "3737010001", "41": "4141010001"}
COUNTY = {"37": "370102", "41": "410102"}
CITY = {"37": "3701", "41": "4101"}
PARTNER = {"37": "41", "41": "37"}
# What the province's other services send to enrollment's internal endpoints
# (``Authorization: Service <token>``); both provinces are started with it.
SERVICE_TOKEN = "enrollment-test-service-token"


@dataclass
class Province:
    """One province's enrollment service, and what a test needs to talk to it."""

    code: str
    app: Any
    client: httpx.AsyncClient
    amqp_url: str
    issuer: TokenIssuer
    partner_key: Ed25519PrivateKey  # the partner province's signing key, which this one trusts
    rng: Random = field(default_factory=Random)

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    def token(
        self,
        role: Role,
        org: str | None = None,
        *,
        student_id: str | None = None,
        account_id: str | None = None,
    ) -> str:
        org = org or {
            Role.PROVINCE: self.code,
            Role.CITY: CITY[self.code],
            Role.COUNTY: COUNTY[self.code],
        }.get(role, SCHOOL[self.code])
        principal = make_principal(role, org, self.code, student_id=student_id, account_id=account_id)
        return self.issuer.issue(principal)

    def auth(
        self,
        role: Role,
        org: str | None = None,
        *,
        student_id: str | None = None,
        account_id: str | None = None,
    ) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token(role, org, student_id=student_id, account_id=account_id)}"
        }

    def new_id_number(self) -> str:
        birth = date(self.rng.randint(2005, 2011), self.rng.randint(1, 12), self.rng.randint(1, 28))
        return make_resident_id(COUNTY[self.code], birth, self.rng.randint(0, 999))

    async def register(self, name: str = "李䶮", **overrides: Any) -> dict[str, Any]:
        body = {"name": name, "id_type": "resident_id", "id_number": self.new_id_number()}
        body["class_id"] = f"class-{SCHOOL[self.code]}-2024-1"
        body.update(overrides)
        response = await self.client.post(
            "/api/v1/students", json=body, headers=self.auth(Role.SCHOOL_REGISTRAR)
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        # The API shows a formal number ("G" + ID) masked; the registrar knows it from the papers,
        # and the tests go on with the real one (the number as shown is kept beside it).
        result["student_number_shown"] = result["student_number"]
        if result["student_number"].startswith("G"):
            result["student_number"] = "G" + str(body["id_number"]).upper()
        return result

    async def publish_local(self, payload: EventPayload, *, correlation_id: Any = None) -> EventEnvelope:
        """As another service of this province would: to ``xueji.events``, unsigned."""
        envelope = EventEnvelope.wrap(
            payload, source="transfer", province=self.code, correlation_id=correlation_id
        )
        return await publish_event(self.amqp_url, envelope)

    async def publish_from_partner(self, payload: EventPayload) -> EventEnvelope:
        """As the partner province's shovel would deliver it: signed, to ``xueji.interprovince.in``."""
        partner = PARTNER[self.code]
        envelope = EventEnvelope.wrap(payload, source="transfer", province=partner)
        body = envelope.to_bytes()
        headers = Signer(partner, f"{partner}-k1", self.partner_key).headers_for(self.code, body)
        await self.publish_raw(
            INTERPROVINCE_IN, interprovince_routing_key(self.code, envelope.type), body, headers
        )
        return envelope

    async def publish_raw(
        self, exchange: str, routing_key: str, body: bytes, headers: dict[str, Any]
    ) -> None:
        await publish_message(
            self.amqp_url,
            body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            message_type=routing_key.split(".", 1)[-1],  # an inter-province key: "<code>.<type>"
        )

    async def outbox(self, event_type: str) -> list[OutboxMessage]:
        return await outbox_rows(self.ctx.sessionmaker, event_type)

    async def applied(self, envelope: EventEnvelope) -> None:
        await wait_until_applied(self.ctx.sessionmaker, envelope)

    async def outbox_about(self, event_type: str, subject: str) -> list[OutboxMessage]:
        return [row for row in await self.outbox(event_type) if envelope_of(row).subject == subject]


def envelope_of(row: OutboxMessage) -> EventEnvelope:
    return EventEnvelope.from_bytes(row.body)


async def _province(
    code: str, keys_dir: Path, signing_keys: dict[str, Ed25519PrivateKey]
) -> AsyncIterator[Province]:
    partner = PARTNER[code]
    seed = keys_dir / f"seed-{code}.json"
    seed.write_text(json.dumps(_seed_without_windows(code), ensure_ascii=False), encoding="utf-8")
    trust = keys_dir / f"trust-{code}.json"
    trust.write_text(
        json.dumps(
            {
                f"{partner}-k1": {
                    "province": partner,
                    "alg": "Ed25519",
                    "public_key": public_key_b64(signing_keys[partner]),
                }
            }
        )
    )
    jwt_key = Ed25519PrivateKey.generate()
    issuer = TokenIssuer(province=code, keys={f"{code}-jwt-test": jwt_key}, current=f"{code}-jwt-test")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        settings = Settings(
            service="enrollment",
            province=code,
            database_url=database_url,
            amqp_url=amqp_url,
            redis_prefix=f"{unique_name()}:",
            partners=[partner],
            signing_key_file=keys_dir / f"signing-{code}.pem",
            signing_key_id=f"{code}-k1",
            trust_file=trust,
            seed_file=seed,
            trace_dir=keys_dir / "traces",
            delivery_limit=2,
            dedupe_hmac_key_file=_dedupe_key(keys_dir),
            service_token=SERVICE_TOKEN,
        )
        app = create_app(SPEC, settings)
        async with app.router.lifespan_context(app):
            app.state.jwt_verifier = StaticJwksVerifier(issuer.jwks(), code)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://enrollment-{code}") as client:
                province = Province(code, app, client, amqp_url, issuer, signing_keys[partner])
                for intake_year in TESTED_INTAKES:
                    await open_supplementary_window(province, intake_year)
                yield province


# The intakes of the seeded classes, which the tests register into long after their deadlines
# (20 Nov of 2024 and 2025): each province opens them a supplementary window (补注册) through its
# API, as a real province would. The demo seed's own windows are left out of the copy: their
# fixed dates would make the tests depend on the calendar.
TESTED_INTAKES = (2024, 2025)


def _seed_without_windows(code: str) -> dict[str, Any]:
    seed: dict[str, Any] = json.loads((REPO / "deploy" / "seed" / f"{code}.json").read_text(encoding="utf-8"))
    seed.pop("supplementary_windows", None)
    return seed


async def open_supplementary_window(
    p: Province, intake_year: int, *, scope: str | None = None, season: str = "autumn", days: int = 60
) -> dict[str, Any]:
    """Open, as the province, a window for the intake from today for ``days`` days."""
    on = today_in_china()
    response = await p.client.post(
        "/api/v1/registration-windows/supplementary",
        json={
            "intake_year": intake_year,
            "season": season,
            "scope": scope,
            "starts_on": on.isoformat(),
            "ends_on": (on + timedelta(days=days)).isoformat(),
            "reason": "测试补注册",
        },
        headers=p.auth(Role.PROVINCE),
    )
    assert response.status_code == 201, response.text
    window: dict[str, Any] = response.json()
    return window


def _dedupe_key(keys_dir: Path) -> Path:
    """The HMAC key both provinces share for ID digests (dedupe.py)."""
    path = keys_dir / "dedupe.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Ed25519PrivateKey]]:
    keys_dir = tmp_path_factory.mktemp("enrollment-keys")
    return keys_dir, {
        code: generate_private_key_file(keys_dir / f"signing-{code}.pem") for code in ("37", "41")
    }


@pytest.fixture(scope="session")
async def p37(signing_keys: tuple[Path, dict[str, Ed25519PrivateKey]]) -> AsyncIterator[Province]:
    async for province in _province("37", *signing_keys):
        yield province


@pytest.fixture(scope="session")
async def p41(signing_keys: tuple[Path, dict[str, Ed25519PrivateKey]]) -> AsyncIterator[Province]:
    async for province in _province("41", *signing_keys):
        yield province
