"""One identity process of province 41, in-process, on a temporary database and vhost."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from services.identity.api import TOKEN_ISSUER
from services.identity.app import SPEC
from services.identity.models import Account
from shared.auth import Principal, Role, TokenIssuer
from shared.events import EventEnvelope, EventPayload
from shared.events.common import StudentSummary
from shared.events.enrollment import StudentRegistered
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from shared.testing import (
    eventually,
    publish_event,
    temporary_database,
    temporary_vhost,
    unique_name,
    wait_until_applied,
)

REGISTRAR = {
    "username": "41-registrar-4141010001",
    "role": "school_registrar",
    "org": "4141010001",
    "display_name": "郑州市信息技术中等职业学校学籍管理员",
    "password": "registrar-pw-" + unique_name(),
}
COUNTY = {
    "username": "41-county-410102",
    "role": "county",
    "org": "410102",
    "display_name": "中原区教育局",
    "password": "county-pw-" + unique_name(),
}

SERVICE_TOKEN = "service-" + unique_name()


@dataclass
class RunningIdentity:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    amqp_url: str

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    def mint(self, principal: Principal) -> dict[str, str]:
        """A bearer header for any principal, signed by this identity (students cannot sign in
        before activation, and other schools' staff are not seeded here)."""
        issuer: TokenIssuer = self.ctx.extras[TOKEN_ISSUER]
        return {"Authorization": f"Bearer {issuer.issue(principal)}"}

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/token", data={"username": username, "password": password})

    async def publish(self, payload: EventPayload, envelope: EventEnvelope | None = None) -> EventEnvelope:
        """Put an event on the province's exchange as enrollment's relay would."""
        env = envelope or EventEnvelope.wrap(payload, source="enrollment", province=self.settings.province)
        return await publish_event(self.amqp_url, env)

    async def publish_at(self, payload: EventPayload, occurred_at: datetime) -> EventEnvelope:
        """An event that says it happened at ``occurred_at``: the order of moves rests on it."""
        envelope = EventEnvelope.wrap(payload, source="enrollment", province=self.settings.province)
        return await self.publish(payload, envelope.model_copy(update={"occurred_at": occurred_at}))

    async def applied(self, envelope: EventEnvelope) -> None:
        await wait_until_applied(self.ctx.sessionmaker, envelope)


DIGEST_KEY = b"test-digest-key-" + uuid.uuid4().hex.encode()


def _digest_key_file(home: Path) -> Path:
    path = home / "keys" / "id-digest.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DIGEST_KEY)
    return path


@pytest_asyncio.fixture(scope="module")
async def identity(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningIdentity]:
    home: Path = tmp_path_factory.mktemp("identity")
    seed: dict[str, Any] = {"province": {"code": "41"}, "accounts": [REGISTRAR, COUNTY]}
    (home / "seed.json").write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        settings = Settings(
            service="identity",
            province="41",
            database_url=database_url,
            amqp_url=amqp_url,
            seed_file=home / "seed.json",
            jwt_key_file=home / "keys" / "jwt.pem",
            face_key_file=home / "keys" / "faces.json",
            dedupe_hmac_key_file=_digest_key_file(home),
            redis_prefix=f"{unique_name('xjt-identity')}:",  # lockouts of one run don't leak into another
            service_token=SERVICE_TOKEN,
            identity_url="http://identity.invalid",  # identity checks its own tokens without HTTP
            trace_dir=home / "traces",
        )
        app = create_app(SPEC, settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
                yield RunningIdentity(app, client, settings, amqp_url)


SCHOOL_LINEAGE = {"province": "41", "city": "4101", "county": "410102", "school": "4141010001"}
FACES = Path(__file__).resolve().parents[5] / "shared" / "data" / "faces"


def student_summary(**overrides: Any) -> StudentSummary:
    values: dict[str, Any] = {
        "student_id": str(uuid.uuid4()),
        "student_number": "G4101022009" + str(uuid.uuid4().int)[:7],
        "name": "张三",
        "sex": "M",
        "birth_date": "2009-05-01",
        "id_number_masked": "4101**********1234",
        "lineage": SCHOOL_LINEAGE,
        "school_name": "郑州市信息技术中等职业学校",
        "class_id": "class-4141010001-2025-1",
        "grade": 2025,
        "major_code": "710201",
        "study_length": 3,
        "study_form": "full_time",
        "status": "in_school",
    }
    values.update(overrides)
    return StudentSummary.model_validate(values)


async def enrolled_student(identity: RunningIdentity, **overrides: Any) -> Account:
    """A student account opened the way production opens it: enrollment's event on the bus."""
    student = student_summary(**overrides)
    await identity.publish(StudentRegistered(student=student))

    async def probe() -> Account | None:
        async with identity.ctx.sessionmaker() as session:
            found: Account | None = await session.scalar(
                select(Account).where(Account.student_id == student.student_id)
            )
        return found

    return await eventually(probe)


def as_student(account: Account) -> Principal:
    return Principal(
        account_id=str(account.id),
        username=account.username,
        role=Role.STUDENT,
        org=account.org_code,
        province="41",
        student_id=account.student_id,
    )


def registrar(school: str = "4141010001") -> Principal:
    return Principal(
        account_id=str(uuid.uuid4()), username="reg", role=Role.SCHOOL_REGISTRAR, org=school, province="41"
    )


def face_photo(relative: str) -> tuple[str, bytes, str]:
    path = FACES / relative
    media = "image/png" if path.suffix == ".png" else "image/jpeg"
    return (path.name, path.read_bytes(), media)
