"""One certificates process of province 41, in-process, on a temporary database and vhost.

The app trusts a test token issuer, so a test can be any principal. Read-model rows (students,
filings, qualifications) are seeded straight into the tables the way enrollment's events leave
them, or published as those events when the test is about the handlers. Enrollment's
certificate-facts and identity's ID-photo endpoints are served in-process by a stand-in that
speaks the same contract (shared/certificate_facts.py; identity's internal photo route); the
end-to-end tests run the real services.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Header, Response
from PIL import Image
from sqlalchemy.dialects.postgresql import insert

from services.certificates.app import SPEC
from services.certificates.models import FiledStudent, QualificationView, StudentView
from services.certificates.peers import Peers
from services.certificates.startup import PEERS
from shared.auth import Principal, Role, StaticJwksVerifier, TokenIssuer, require_service_token
from shared.certificate_facts import CertificateFacts, CertificateFactsAnswer, CertificateFactsRequest
from shared.events import EventEnvelope, EventPayload
from shared.events.common import StudentSummary
from shared.readmodels import upsert_student_view
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from shared.testing import (
    make_principal,
    outbox_events,
    publish_event,
    temporary_database,
    temporary_vhost,
    unique_name,
    wait_until_applied,
)

PROVINCE = "41"
SERVICE_TOKEN = "service-" + unique_name()
SCHOOL_NAME = "郑州市信息技术中等职业学校"

# Counties other tests name on purpose; ``area`` never hands these out.
_COUNTIES_TAKEN: set[str] = {"410102"}


@dataclass(frozen=True)
class Area:
    """A fresh county of province 41 with two schools: a test's counts are its own."""

    city: str
    county: str
    school: str
    other_school: str

    def lineage(self, school: str | None = None) -> dict[str, str]:
        return {
            "province": PROVINCE,
            "city": self.city,
            "county": self.county,
            "school": school or self.school,
        }


@pytest.fixture
def area() -> Area:
    while True:
        county = f"41{uuid.uuid4().int % 10**4:04d}"
        if county not in _COUNTIES_TAKEN:
            break
    _COUNTIES_TAKEN.add(county)
    return Area(
        city=county[:4], county=county, school=f"41{county[2:]}0001", other_school=f"41{county[2:]}0002"
    )


@dataclass
class PeerStandIn:
    """Enrollment's certificate facts and identity's ID photos, as the tests set them."""

    facts: dict[str, CertificateFacts] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)
    fact_requests: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/v1/certificate-facts")
        async def certificate_facts(
            body: CertificateFactsRequest, authorization: Annotated[str | None, Header()] = None
        ) -> CertificateFactsAnswer:
            require_service_token(SERVICE_TOKEN, authorization)
            self.fact_requests += 1
            known = [self.facts[i] for i in body.student_ids if i in self.facts]
            return CertificateFactsAnswer(
                facts=known, unknown=[i for i in body.student_ids if i not in self.facts]
            )

        @app.get("/internal/v1/students/{student_id}/photo")
        async def id_photo(
            student_id: str, authorization: Annotated[str | None, Header()] = None
        ) -> Response:
            require_service_token(SERVICE_TOKEN, authorization)
            if student_id not in self.photos:
                return Response(status_code=404)
            return Response(self.photos[student_id], media_type="image/jpeg")

        return app


@dataclass
class RunningCertificates:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    amqp_url: str
    issuer: TokenIssuer
    peers: PeerStandIn
    home: Path

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    # --- principals -----------------------------------------------------------------------------

    def principal(
        self, role: Role, org: str, *, student_id: str | None = None, account_id: str | None = None
    ) -> Principal:
        return make_principal(role, org, PROVINCE, student_id=student_id, account_id=account_id)

    def auth(
        self, role: Role, org: str, *, student_id: str | None = None, account_id: str | None = None
    ) -> dict[str, str]:
        """A bearer header for any principal (students: pass ``student_id``; org = their school)."""
        principal = self.principal(role, org, student_id=student_id, account_id=account_id)
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    def as_student(self, student: StudentSummary) -> dict[str, str]:
        return self.auth(Role.STUDENT, student.lineage.school, student_id=student.student_id)

    # --- read models, as enrollment's events leave them -----------------------------------------

    async def seed_student(self, **overrides: Any) -> StudentSummary:
        student = student_summary(**overrides)
        async with self.ctx.sessionmaker() as session:
            await upsert_student_view(session, StudentView, student)
            await session.commit()
        return student

    async def seed_filed(self, student_id: str, intake_year: int = 2024) -> None:
        async with self.ctx.sessionmaker() as session:
            values = {
                "student_id": student_id,
                "filing_id": unique_name("filing"),
                "intake_year": intake_year,
            }
            await session.execute(insert(FiledStudent).values(**values).on_conflict_do_nothing())
            await session.commit()

    async def seed_qualification(self, school_code: str, major_code: str, year: int) -> None:
        async with self.ctx.sessionmaker() as session:
            values = {"school_code": school_code, "major_code": major_code, "year": year}
            await session.execute(insert(QualificationView).values(**values).on_conflict_do_nothing())
            await session.commit()

    async def seed_graduand(self, **overrides: Any) -> StudentSummary:
        """A student of the 2024 intake, three years, filed, school and major qualified, with
        facts and an ID photo at the stand-in: ready to graduate in 2027."""
        student = await self.seed_student(**overrides)
        await self.seed_filed(student.student_id, student.grade)
        await self.seed_qualification(student.lineage.school, student.major_code or "", student.grade)
        self.facts_for(student)
        self.peers.photos[student.student_id] = id_photo_jpeg()
        return student

    def facts_for(self, student: StudentSummary, **overrides: Any) -> CertificateFacts:
        """What enrollment would answer for ``student`` (full ID number included)."""
        values: dict[str, Any] = {
            "student_id": student.student_id,
            "name": student.name,
            "sex": student.sex,
            "birth_date": student.birth_date,
            "id_type": "resident_id",
            "id_number": "41010220090501123X",
            "study_start": date(student.grade, 9, 1),
            "study_length": student.study_length,
            "study_form": student.study_form,
            "major_code": student.major_code,
            "major_name": "计算机应用",
            "skill_direction": "网络技术",
            "school_name": student.school_name,
        }
        values.update(overrides)
        facts = CertificateFacts.model_validate(values)
        self.peers.facts[student.student_id] = facts
        return facts

    # --- the bus --------------------------------------------------------------------------------

    async def publish(self, payload: EventPayload, *, source: str = "enrollment") -> EventEnvelope:
        """Put an event on the province's exchange as another service's relay would."""
        envelope = EventEnvelope.wrap(payload, source=source, province=PROVINCE)
        return await publish_event(self.amqp_url, envelope)

    async def applied(self, envelope: EventEnvelope) -> None:
        await wait_until_applied(self.ctx.sessionmaker, envelope)

    async def outbox(self, event_type: str) -> list[EventEnvelope]:
        """The events this service wrote of one type, oldest first."""
        return await outbox_events(self.ctx.sessionmaker, event_type)


def student_summary(**overrides: Any) -> StudentSummary:
    """A full-time in-school student of the 2024 intake, three years, unless told otherwise."""
    values: dict[str, Any] = {
        "student_id": str(uuid.uuid4()),
        "student_number": "G4101022009" + str(uuid.uuid4().int)[:7],
        "name": "王𬌗",
        "sex": "M",
        "birth_date": "2009-05-01",
        "id_number_masked": "4101**********123X",
        "lineage": {"province": PROVINCE, "city": "4101", "county": "410102", "school": "4141010001"},
        "school_name": SCHOOL_NAME,
        "class_id": "class-2024-1",
        "grade": 2024,
        "major_code": "710201",
        "study_length": 3,
        "study_form": "full_time",
        "status": "in_school",
    }
    values.update(overrides)
    return StudentSummary.model_validate(values)


def id_photo_jpeg(seed: int = 7) -> bytes:
    """A small real JPEG standing in for an accepted ID photo (358 × 441, the 2-inch ratio)."""
    image = Image.new("RGB", (358, 441), (200 + seed % 50, 220, 240))
    for x in range(120, 240):
        for y in range(120, 300, 3):
            image.putpixel((x, y), (90, 70, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def certificate_settings(home: Path, database_url: str, amqp_url: str, **overrides: Any) -> Settings:
    """Settings of a certificates process under test; key files are created on first use."""
    values: dict[str, Any] = {
        "service": "certificates",
        "province": PROVINCE,
        "database_url": database_url,
        "amqp_url": amqp_url,
        "redis_prefix": f"{unique_name('xjt-certificates')}:",
        "service_token": SERVICE_TOKEN,
        "identity_url": "http://identity.test",
        "enrollment_url": "http://enrollment.test",
        "trace_dir": home / "traces",
        "delivery_limit": 3,
        "certificate_payload_key_file": home / "keys" / "qr-payload.pem",
        "certificate_number_key_file": home / "keys" / "number.key",
        "certificate_output_dir": home / "prints",
        "verification_per_minute": 10000,
    }
    values.update(overrides)
    (home / "keys").mkdir(parents=True, exist_ok=True)
    return Settings(**values)


async def running_certificates(
    home: Path, database_url: str, amqp_url: str, **overrides: Any
) -> AsyncIterator[RunningCertificates]:
    """Start the app on the given database and vhost; the stand-in peers answer its calls."""
    settings = certificate_settings(home, database_url, amqp_url, **overrides)
    issuer = TokenIssuer(
        province=PROVINCE, keys={"41-jwt-test": Ed25519PrivateKey.generate()}, current="41-jwt-test"
    )
    stand_in = PeerStandIn()
    app = create_app(SPEC, settings)
    async with app.router.lifespan_context(app):
        app.state.jwt_verifier = StaticJwksVerifier(issuer.jwks(), PROVINCE)
        ctx: ServiceContext = app.state.ctx
        await ctx.extras[PEERS].aclose()
        ctx.extras[PEERS] = Peers(settings, transport=httpx.ASGITransport(app=stand_in.app()))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://certificates.test") as client:
            yield RunningCertificates(app, client, settings, amqp_url, issuer, stand_in, home)


@pytest.fixture(scope="session")
async def certificates(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningCertificates]:
    home: Path = tmp_path_factory.mktemp("certificates")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        async for running in running_certificates(home, database_url, amqp_url):
            yield running
