"""One check-in process of province 41, in-process, on a temporary database and vhost.

Shared by every check-in integration test (rounds, check-ins, leave, lists): the app trusts a
test token issuer, so a test can be any principal; read-model rows (students, campuses) and
rounds are seeded straight into the tables, the way enrollment's events and the rounds API
would leave them, so each test starts from the state it is about.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.checkin.app import SPEC
from services.checkin.models import CampusView, DeviceKeyView, Round, StudentView
from shared.auth import Principal, Role, StaticJwksVerifier, TokenIssuer
from shared.events import EventEnvelope, EventPayload
from shared.events.common import StudentSummary
from shared.readmodels import upsert_student_view
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from shared.signing import generate_private_key_file
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
CITY = "4101"
COUNTY = "410102"
SCHOOL = "4141010001"
OTHER_SCHOOL = "4141010002"  # same county, another school: outside SCHOOL's jurisdiction
LINEAGE = {"province": PROVINCE, "city": CITY, "county": COUNTY, "school": SCHOOL}
SERVICE_TOKEN = "service-" + unique_name()

# A campus of about 660 m × 550 m in Zhengzhou, drawn in WGS-84 (lon, lat as GeoJSON has it).
CAMPUS_CENTRE = (34.7466, 113.6253)  # (lat, lon)
CAMPUS_HALF_SIDE_DEG = 0.003


def square(lat: float, lon: float, half_side_deg: float = CAMPUS_HALF_SIDE_DEG) -> dict[str, Any]:
    """A GeoJSON Polygon: a square around (lat, lon)."""
    d = half_side_deg
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class RunningCheckin:
    app: Any
    client: httpx.AsyncClient
    settings: Settings
    amqp_url: str
    issuer: TokenIssuer

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    # --- principals -------------------------------------------------------------------------

    def principal(
        self,
        role: Role,
        org: str | None = None,
        *,
        student_id: str | None = None,
        account_id: str | None = None,
    ) -> Principal:
        org = org or {Role.PROVINCE: PROVINCE, Role.CITY: CITY, Role.COUNTY: COUNTY}.get(role, SCHOOL)
        return make_principal(role, org, PROVINCE, student_id=student_id, account_id=account_id)

    def auth(
        self,
        role: Role,
        org: str | None = None,
        *,
        student_id: str | None = None,
        account_id: str | None = None,
    ) -> dict[str, str]:
        """A bearer header for any principal (students: pass ``student_id``)."""
        principal = self.principal(role, org, student_id=student_id, account_id=account_id)
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    def as_student(self, student: StudentSummary) -> dict[str, str]:
        return self.auth(Role.STUDENT, student.lineage.school, student_id=student.student_id)

    # --- seeding ------------------------------------------------------------------------------

    async def seed_student(self, **overrides: Any) -> StudentSummary:
        """A row of ``student_view`` as enrollment's StudentRegistered would leave it."""
        student = student_summary(**overrides)
        async with self.ctx.sessionmaker() as session:
            await upsert_student_view(session, StudentView, student)
            await session.commit()
        return student

    async def seed_campus(
        self,
        school_code: str = SCHOOL,
        *,
        boundary: dict[str, Any] | None = None,
        crs: str = "WGS-84",
        campus_id: str | None = None,
        name: str = "主校区",
    ) -> str:
        """A campus boundary as enrollment's CampusRegistered would leave it; returns its id."""
        campus_id = campus_id or unique_name("campus")
        values = {
            "campus_id": campus_id,
            "school_code": school_code,
            "name": name,
            "crs": crs,
            "boundary": boundary or square(*CAMPUS_CENTRE),
        }
        async with self.ctx.sessionmaker() as session:
            statement = insert(CampusView).values(**values)
            await session.execute(statement.on_conflict_do_update(index_elements=["campus_id"], set_=values))
            await session.commit()
        return campus_id

    async def seed_round(self, **overrides: Any) -> Round:
        """An open province-wide verification round of grades 2023–2025 around now, every face
        checked unless the test says otherwise."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "kind": "verification",
            "name": "2026年秋季常态化核验 " + unique_name(""),
            "term": "2026-autumn",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "grades": [2023, 2024, 2025],
            "scope_level": "province",
            "scope_code": PROVINCE,
            "province_code": PROVINCE,
            "city_code": None,
            "county_code": None,
            "school_code": None,
            "face_policy": "every",
            "face_sample_rate": 1.0,
            "state": "open",
            "opened_at": now - timedelta(hours=1),
            "created_by": "test",
        }
        values.update(overrides)
        row = Round(id=uuid.uuid4(), **values)
        async with self.ctx.sessionmaker() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return row

    async def seed_device_key(self, student_id: str, key: Ed25519PrivateKey) -> None:
        """The device key identity.device.registered would leave (the handler has its own test)."""
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        values = {"student_id": student_id, "public_key": raw, "registered_at": datetime.now(UTC)}
        async with self.ctx.sessionmaker() as session:
            statement = insert(DeviceKeyView).values(**values)
            await session.execute(statement.on_conflict_do_update(index_elements=["student_id"], set_=values))
            await session.commit()

    # --- the bus --------------------------------------------------------------------------------

    async def publish(
        self, payload: EventPayload, *, source: str = "enrollment", occurred_at: datetime | None = None
    ) -> EventEnvelope:
        """Put an event on the province's exchange as another service's relay would."""
        envelope = EventEnvelope.wrap(payload, source=source, province=PROVINCE)
        if occurred_at is not None:
            envelope = envelope.model_copy(update={"occurred_at": occurred_at})
        return await publish_event(self.amqp_url, envelope)

    async def applied(self, envelope: EventEnvelope) -> None:
        await wait_until_applied(self.ctx.sessionmaker, envelope)

    async def outbox(self, event_type: str) -> list[EventEnvelope]:
        """The events this service wrote of one type, oldest first."""
        return await outbox_events(self.ctx.sessionmaker, event_type)


def student_summary(**overrides: Any) -> StudentSummary:
    """A full-time in-school student of SCHOOL, grade 2024, unless told otherwise."""
    values: dict[str, Any] = {
        "student_id": str(uuid.uuid4()),
        "student_number": "G4101022009" + str(uuid.uuid4().int)[:7],
        "name": "王小明",
        "sex": "M",
        "birth_date": "2009-05-01",
        "id_number_masked": "4101**********1234",
        "lineage": LINEAGE,
        "school_name": "郑州市信息技术中等职业学校",
        "class_id": f"class-{SCHOOL}-2024-1",
        "grade": 2024,
        "major_code": "710201",
        "study_length": 3,
        "study_form": "full_time",
        "status": "in_school",
    }
    values.update(overrides)
    return StudentSummary.model_validate(values)


def selfie_jpeg(seed: int | None = None) -> bytes:
    """A small real JPEG whose bytes differ per call (a replayed selfie must be sent on purpose)."""
    seed = uuid.uuid4().int if seed is None else seed
    colour = (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256)
    image = Image.new("RGB", (64, 64), colour)
    image.putpixel((seed % 64, (seed >> 6) % 64), (255 - colour[0], 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80, comment=str(seed).encode())
    return buffer.getvalue()


@dataclass
class Phone:
    """A student's app: holds the device key and sends signed check-ins by the API contract."""

    checkin: RunningCheckin
    student: StudentSummary
    key: Ed25519PrivateKey
    device_id: str

    async def challenge(self, round_id: uuid.UUID | str) -> httpx.Response:
        return await self.checkin.client.post(
            f"/api/v1/rounds/{round_id}/challenge", headers=self.checkin.as_student(self.student)
        )

    async def nonce(self, round_id: uuid.UUID | str) -> str:
        response = await self.challenge(round_id)
        assert response.status_code == 200, response.text
        nonce: str = response.json()["nonce"]
        return nonce

    def payload(self, round_id: uuid.UUID | str, nonce: str, selfie: bytes, **fields: Any) -> dict[str, Any]:
        lat, lon = CAMPUS_CENTRE
        body: dict[str, Any] = {
            "round_id": str(round_id),
            "nonce": nonce,
            "latitude": lat,
            "longitude": lon,
            "accuracy_m": 10.0,
            "crs": "WGS-84",
            "device_id": self.device_id,
            "emulator": False,
            "mock_location": False,
            "rooted": False,
            "selfie_sha256": hashlib.sha256(selfie).hexdigest(),
            "captured_at": datetime.now(UTC).isoformat(),
        }
        body.update(fields)
        return body

    async def send(
        self,
        payload: dict[str, Any] | str,
        selfie: bytes,
        *,
        signature: str | None = None,
        key: Ed25519PrivateKey | None = None,
        media_type: str = "image/jpeg",
    ) -> httpx.Response:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        if signature is None:
            signature = base64.b64encode((key or self.key).sign(text.encode())).decode()
        return await self.checkin.client.post(
            "/api/v1/check-ins",
            data={"payload": text, "signature": signature},
            files={"selfie": ("selfie.jpg", selfie, media_type)},
            headers=self.checkin.as_student(self.student),
        )

    async def check_in(
        self, round_id: uuid.UUID | str, *, selfie: bytes | None = None, **fields: Any
    ) -> httpx.Response:
        """Challenge, sign and send one check-in (fields override the payload, e.g. latitude)."""
        selfie = selfie if selfie is not None else selfie_jpeg()
        nonce = await self.nonce(round_id)
        return await self.send(self.payload(round_id, nonce, selfie, **fields), selfie)


async def phone_for(
    checkin: RunningCheckin, student: StudentSummary, *, device_id: str | None = None
) -> Phone:
    """A phone with a registered device key for ``student``."""
    key = Ed25519PrivateKey.generate()
    await checkin.seed_device_key(student.student_id, key)
    return Phone(checkin, student, key, device_id or unique_name("device"))


@pytest.fixture(scope="session")
async def checkin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningCheckin]:
    home: Path = tmp_path_factory.mktemp("checkin")
    signing_key = home / "signing.pem"
    generate_private_key_file(signing_key)
    jwt_key = Ed25519PrivateKey.generate()
    issuer = TokenIssuer(province=PROVINCE, keys={"41-jwt-test": jwt_key}, current="41-jwt-test")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        settings = Settings(
            service="checkin",
            province=PROVINCE,
            database_url=database_url,
            amqp_url=amqp_url,
            redis_prefix=f"{unique_name('xjt-checkin')}:",  # nonces of one run don't leak into another
            service_token=SERVICE_TOKEN,
            identity_url="http://identity.invalid",
            checkin_internal_url="http://checkin.test",
            # Open all day: the tests run at any hour; the 07:00–23:00 rule has its own tests.
            checkin_opens=clock_time(0, 0),
            checkin_closes=clock_time(23, 59, 59, 999999),
            trace_dir=home / "traces",
            delivery_limit=3,
            # A student leaving for 37 takes a verification summary along (signed).
            partners=["37"],
            signing_key_file=signing_key,
        )
        app = create_app(SPEC, settings)
        async with app.router.lifespan_context(app):
            app.state.jwt_verifier = StaticJwksVerifier(issuer.jwks(), PROVINCE)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://checkin.test") as client:
                yield RunningCheckin(app, client, settings, amqp_url, issuer)


# --- leave, internships, lists, statistics, exports, FM4 (issue 5 items 4 and 6) ---------------
# Each of these tests works in a county of its own (``area``), so a round scoped to it and the
# counts of its lists are the test's alone, whatever else the shared database holds.


@dataclass(frozen=True)
class Area:
    """A fresh county of province 41 with two schools."""

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


# Counties other tests use by name (conftest's own school 4141010001 is in 414101) are taken too.
_COUNTIES_TAKEN: set[str] = {"410102", "414101", "414199", "419800", "419998", "419999"}


@pytest.fixture
def area() -> Area:
    # Tests share one database: two tests drawing the same county would count each other's
    # students, so a county is never handed out twice in a session.
    while True:
        county = f"41{uuid.uuid4().int % 10**4:04d}"
        if county not in _COUNTIES_TAKEN:
            break
    _COUNTIES_TAKEN.add(county)
    return Area(city=county[:4], county=county, school=f"{county}0001", other_school=f"{county}0002")


async def seed_area_student(
    checkin: RunningCheckin, area: Area, school: str | None = None, **overrides: Any
) -> StudentSummary:
    school = school or area.school
    values: dict[str, Any] = {"lineage": area.lineage(school), "class_id": f"class-{school}-2024-1"}
    values.update(overrides)
    return await checkin.seed_student(**values)


async def record_check_in(
    checkin: RunningCheckin,
    round_id: uuid.UUID,
    student: StudentSummary,
    result: str | None,
    *,
    received_at: datetime | None = None,
    reasons: list[str] | None = None,
) -> uuid.UUID:
    """A decided (or, with ``result=None``, awaiting) attempt that counts for the student in the
    round, as the accept path leaves it; a second call replaces the counting attempt."""
    from services.checkin.models import CheckIn, RoundAttendance

    at = received_at or datetime.now(UTC)
    attempt = CheckIn(
        id=uuid.uuid4(),
        round_id=round_id,
        student_id=student.student_id,
        school_code=student.lineage.school,
        received_at=at,
        latitude=CAMPUS_CENTRE[0],
        longitude=CAMPUS_CENTRE[1],
        accuracy_m=10.0,
        crs="WGS-84",
        device_id=unique_name("device"),
        emulator=False,
        mock_location=False,
        rooted=False,
        selfie_sha256=uuid.uuid4().hex + uuid.uuid4().hex,
        face_required=False,
        state="decided" if result else "awaiting_face",
        result=result,
        reasons=reasons or [],
        decided_at=at if result else None,
    )
    values = {
        "round_id": round_id,
        "student_id": student.student_id,
        "school_code": student.lineage.school,
        "current_check_in_id": attempt.id,
        "result": result,
        "final": result in ("normal", "internship"),
        "attempts": 1,
        "updated_at": at,
    }
    async with checkin.ctx.sessionmaker() as session:
        session.add(attempt)
        await session.flush()
        statement = insert(RoundAttendance).values(**values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["round_id", "student_id"],
                set_={k: v for k, v in values.items() if k not in ("round_id", "student_id")},
            )
        )
        await session.commit()
    return attempt.id


async def assign_counselor(
    checkin: RunningCheckin, student: StudentSummary, counselor_account_id: str
) -> None:
    """The row identity.counselor.assigned would leave."""
    from services.checkin.models import CounselorView

    values = {"student_id": student.student_id, "counselor_account_id": counselor_account_id}
    async with checkin.ctx.sessionmaker() as session:
        statement = insert(CounselorView).values(**values)
        await session.execute(statement.on_conflict_do_update(index_elements=["student_id"], set_=values))
        await session.commit()


async def record_miss(
    checkin: RunningCheckin, round_row: Round, student: StudentSummary, *, excused: bool = False
) -> None:
    """The row closing a round leaves for an eligible student without a valid check-in."""
    from services.checkin.models import Miss

    async with checkin.ctx.sessionmaker() as session:
        session.add(
            Miss(
                round_id=round_row.id,
                student_id=student.student_id,
                school_code=student.lineage.school,
                term=round_row.term,
                round_ends_at=round_row.ends_at,
                excused=excused,
            )
        )
        await session.commit()


# --- rounds, the round clock, misses, prompts and appeals (issue 5 items 1, 2 and 5) ----------
# These rounds lie in 2031 and later, scoped to the test's own ``area``: the background round
# clock (real time) never reaches them, and a test moves them with ``advance_rounds(…,
# round_ids=[…])`` at an explicit ``now``.

FUTURE = datetime(2031, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, in the 2031 spring term


async def seed_future_round(
    checkin: RunningCheckin,
    area: Area,
    *,
    starts_at: datetime = FUTURE,
    hours: float = 8,
    scope_level: str = "county",
    **overrides: Any,
) -> Round:
    """A scheduled verification round of the area's county (or its school), grades 2024–2025."""
    from services.checkin.domain.terms import term_of
    from shared.china_time import CHINA

    values: dict[str, Any] = {
        "term": term_of(starts_at.astimezone(CHINA).date()),
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=hours),
        "grades": [2024, 2025],
        "scope_level": scope_level,
        "scope_code": area.county if scope_level == "county" else area.school,
        "city_code": area.city,
        "county_code": area.county,
        "school_code": area.school if scope_level == "school" else None,
        "state": "scheduled",
        "opened_at": None,
    }
    values.update(overrides)
    return await checkin.seed_round(**values)


async def close_round(checkin: RunningCheckin, round_row: Round) -> list[Any]:
    """Run the round clock just past the round's end (it opens, then closes the round)."""
    from services.checkin.round_clock import advance_rounds

    return await advance_rounds(
        checkin.ctx, round_row.ends_at + timedelta(seconds=1), round_ids=[round_row.id]
    )


async def misses_of(checkin: RunningCheckin, round_row: Round) -> dict[str, bool]:
    """student id → excused, for the round's misses."""
    from services.checkin.models import Miss

    async with checkin.ctx.sessionmaker() as session:
        rows = await session.execute(
            select(Miss.student_id, Miss.excused).where(Miss.round_id == round_row.id)
        )
        return dict(rows.tuples().all())


async def events_about(
    checkin: RunningCheckin, event_type: str, key: str, value: str
) -> list[dict[str, Any]]:
    """Payloads of the outbox events of one type whose ``key`` is ``value``."""
    return [
        envelope.data for envelope in await checkin.outbox(event_type) if str(envelope.data.get(key)) == value
    ]


# --- (continued) leave, internships, lists, statistics, exports, FM4 ----------------------------


@dataclass
class RoundScenario:
    """A verification round of ``area``'s county (grade 2024) and one student per case."""

    round: Round
    students: dict[str, StudentSummary]
    counselor: str

    def ids(self, *names: str) -> set[str]:
        return {self.students[name].student_id for name in names}


async def seed_round_scenario(checkin: RunningCheckin, area: Area, **round_overrides: Any) -> RoundScenario:
    """normal / internship / off_campus / suspected_cheating: decided attempts; pending: an
    attempt still waiting for its face result; none: no attempt; part_time, on_leave (approved
    leave covering the round), suspended, grade_2023: not eligible to a verification round;
    other_school: eligible, in the county's other school. The counselor looks after ``normal``
    and ``none``."""
    from zoneinfo import ZoneInfo

    from services.checkin.models import Leave

    now = datetime.now(UTC)
    round_row = await checkin.seed_round(
        scope_level="county",
        scope_code=area.county,
        city_code=area.city,
        county_code=area.county,
        grades=[2024],
        **round_overrides,
    )
    cases: dict[str, dict[str, Any]] = {
        "normal": {},
        "internship": {},
        "off_campus": {},
        "suspected_cheating": {},
        "pending": {},
        "none": {},
        "part_time": {"study_form": "part_time"},
        "on_leave": {},
        "suspended": {"status": "suspended"},
        "grade_2023": {"grade": 2023, "class_id": f"class-{area.school}-2023-1"},
    }
    students: dict[str, StudentSummary] = {}
    for index, (case, overrides) in enumerate(cases.items()):
        major = "710201" if index % 2 else "660101"
        students[case] = await seed_area_student(
            checkin, area, name=f"{index:02d}{case}", major_code=major, **overrides
        )
    students["other_school"] = await seed_area_student(
        checkin, area, school=area.other_school, name="99other"
    )
    minutes = {"normal": 50, "internship": 20, "off_campus": 15, "suspected_cheating": 10}
    for case, ago in minutes.items():
        await record_check_in(
            checkin, round_row.id, students[case], case, received_at=now - timedelta(minutes=ago), reasons=[]
        )
    await record_check_in(checkin, round_row.id, students["pending"], None)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    async with checkin.ctx.sessionmaker() as session:
        session.add(
            Leave(
                student_id=students["on_leave"].student_id,
                school_code=area.school,
                term="2026-autumn",
                starts_on=today - timedelta(days=1),
                ends_on=today + timedelta(days=1),
                reason="病假",
                state="approved",
            )
        )
        await session.commit()
    counselor = unique_name("counselor")
    await assign_counselor(checkin, students["normal"], counselor)
    await assign_counselor(checkin, students["none"], counselor)
    return RoundScenario(round_row, students, counselor)
