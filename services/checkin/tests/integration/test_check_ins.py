"""Check-ins on the real servers: signed requests, nonces, the geofence in both datums, the
result rules, the replace/final rule, leave and internships, and the face check through events."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.checkin.accepting import accept_check_in
from services.checkin.domain.gcj02 import wgs84_to_gcj02
from services.checkin.domain.geofence import LocalProjection
from services.checkin.models import Internship, Leave, RoundAttendance, Selfie
from services.checkin.tests.integration.conftest import (
    CAMPUS_CENTRE,
    CAMPUS_HALF_SIDE_DEG,
    LINEAGE,
    SERVICE_TOKEN,
    Phone,
    RunningCheckin,
    phone_for,
    selfie_jpeg,
    square,
)
from shared.auth import Role
from shared.events import EventEnvelope
from shared.events.identity import DeviceRegistered, FaceOutcomeName, FaceVerified
from shared.problems import Problem
from shared.testing import eventually

pytestmark = pytest.mark.integration

LAT, LON = CAMPUS_CENTRE
M_PER_DEG_LAT = LocalProjection.at(LAT, LON).metres_per_deg_lat
NORTH_EDGE = LAT + CAMPUS_HALF_SIDE_DEG


def north_of_edge(metres: float) -> float:
    """The latitude ``metres`` north of the campus's north edge (negative: inside)."""
    return NORTH_EDGE + metres / M_PER_DEG_LAT


async def new_school(
    checkin: RunningCheckin, *, boundary: dict[str, Any] | None = None, crs: str = "WGS-84"
) -> str:
    """A school of its own with one campus, so no other test's campus joins its fence."""
    school = "4141" + "".join(random.choices("0123456789", k=6))
    await checkin.seed_campus(school, boundary=boundary or square(LAT, LON), crs=crs)
    return school


async def enrolled(checkin: RunningCheckin, school: str | None = None, **overrides: Any) -> Phone:
    school = school or await new_school(checkin)
    student = await checkin.seed_student(lineage={**LINEAGE, "school": school}, **overrides)
    return await phone_for(checkin, student)


async def decided_at_once(checkin: RunningCheckin) -> uuid.UUID:
    """A round that checks no face unless the attempt is suspicious."""
    return (await checkin.seed_round(face_policy="sampled", face_sample_rate=0.0)).id


async def view(checkin: RunningCheckin, phone: Phone, check_in_id: str) -> dict[str, Any]:
    response = await checkin.client.get(
        f"/api/v1/check-ins/{check_in_id}", headers=checkin.as_student(phone.student)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def face_answers(
    checkin: RunningCheckin, phone: Phone, check_in_id: str, outcome: FaceOutcomeName = "match"
) -> dict[str, Any]:
    """Stand in for identity's worker: publish its result, wait for the attempt to be decided."""
    await checkin.publish(
        FaceVerified(
            check_in_id=check_in_id,
            student_id=phone.student.student_id,
            outcome=outcome,
            distance=0.3 if outcome == "match" else 0.8,
        ),
        source="identity",
    )

    async def decided() -> dict[str, Any] | None:
        body = await view(checkin, phone, check_in_id)
        return body if body["state"] == "decided" else None

    return await eventually(decided)


async def decided_events(checkin: RunningCheckin, check_in_id: str) -> list[EventEnvelope]:
    return [
        e for e in await checkin.outbox("checkin.check_in.decided") if e.data["check_in_id"] == check_in_id
    ]


def accepted(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/v1/check-ins/{body['check_in_id']}"
    return body


# --- the normal path and the replace/final rule --------------------------------------------------


async def test_a_signed_check_in_inside_the_campus_is_normal_and_final_at_once(
    checkin: RunningCheckin,
) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)

    body = accepted(await phone.check_in(round_id))

    assert body["state"] == "decided"
    assert (body["result"], body["result_zh"], body["reasons"]) == ("normal", "正常", [])
    shown = await view(checkin, phone, body["check_in_id"])
    assert shown["final"] and shown["result"] == "normal"
    [event] = await decided_events(checkin, body["check_in_id"])
    assert event.data["final"] and event.data["school_code"] == phone.student.lineage.school
    async with checkin.ctx.sessionmaker() as session:
        # no face check needed: the selfie's bytes are not kept
        assert await session.get(Selfie, uuid.UUID(body["check_in_id"])) is None


async def test_off_campus_is_replaced_by_a_new_attempt_and_normal_is_final(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)

    first = accepted(await phone.check_in(round_id, latitude=north_of_edge(400)))
    assert (first["result"], first["reasons"]) == ("off_campus", ["outside_campus"])
    assert not (await view(checkin, phone, first["check_in_id"]))["final"]

    second = accepted(await phone.check_in(round_id))
    assert second["result"] == "normal"
    async with checkin.ctx.sessionmaker() as session:
        attendance = await session.get(RoundAttendance, (round_id, phone.student.student_id))
    assert attendance is not None
    assert (
        str(attendance.current_check_in_id),
        attendance.result,
        attendance.final,
        attendance.attempts,
    ) == (
        second["check_in_id"],
        "normal",
        True,
        2,
    )

    third = await phone.check_in(round_id, latitude=north_of_edge(400))
    assert third.status_code == 409, third.text
    assert third.json()["type"] == "urn:xueji:problem:already-final"


async def test_two_attempts_at_once_record_one_final_result(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    selfies = [selfie_jpeg(), selfie_jpeg()]
    nonces = [await phone.nonce(round_id), await phone.nonce(round_id)]

    responses = await asyncio.gather(
        *(
            phone.send(phone.payload(round_id, n, selfie), selfie)
            for n, selfie in zip(nonces, selfies, strict=True)
        )
    )

    assert sorted(r.status_code for r in responses) == [202, 409]
    async with checkin.ctx.sessionmaker() as session:
        attendance = await session.get(RoundAttendance, (round_id, phone.student.student_id))
    winner = next(r for r in responses if r.status_code == 202).json()
    assert attendance is not None and str(attendance.current_check_in_id) == winner["check_in_id"]
    assert attendance.final and attendance.attempts == 1


async def test_another_student_cannot_read_the_attempt_but_the_school_can(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    other = await enrolled(checkin)
    body = accepted(await phone.check_in(await decided_at_once(checkin)))
    path = f"/api/v1/check-ins/{body['check_in_id']}"

    assert (await checkin.client.get(path, headers=checkin.as_student(other.student))).status_code == 404
    school = phone.student.lineage.school
    registrar = await checkin.client.get(path, headers=checkin.auth(Role.SCHOOL_REGISTRAR, school))
    assert registrar.status_code == 200 and registrar.json()["result"] == "normal"
    assert (
        await checkin.client.get(path, headers=checkin.auth(Role.SCHOOL_REGISTRAR, "4141999999"))
    ).status_code == 404


# --- scripts, signatures and nonces --------------------------------------------------------------


async def test_a_script_without_the_device_key_is_refused(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    selfie = selfie_jpeg()

    forged = await phone.send(
        phone.payload(round_id, await phone.nonce(round_id), selfie), selfie, key=Ed25519PrivateKey.generate()
    )
    assert forged.status_code == 403, forged.text
    assert forged.json()["type"] == "urn:xueji:problem:bad-signature"
    assert forged.json()["errors"][0]["field"] == "signature"

    # Signed honestly, then the coordinates changed: the signature no longer covers them.
    payload = phone.payload(round_id, await phone.nonce(round_id), selfie)
    text = json.dumps(payload)
    signature = base64.b64encode(phone.key.sign(text.encode())).decode()
    tampered = await phone.send(text.replace(str(LAT), str(LAT + 0.0001)), selfie, signature=signature)
    assert tampered.status_code == 403, tampered.text

    garbage = await phone.send(payload, selfie, signature="not base64!")
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["field"] == "signature"

    # A student whose app never registered a key.
    student = await checkin.seed_student(lineage=phone.student.lineage)
    stranger = Phone(checkin, student, Ed25519PrivateKey.generate(), "script")
    unregistered = await stranger.check_in(round_id)
    assert unregistered.status_code == 403
    assert unregistered.json()["type"] == "urn:xueji:problem:device-not-registered"


async def test_a_new_phone_key_works_at_once_and_the_old_one_stops_at_once(
    checkin: RunningCheckin,
) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    accepted(await phone.check_in(round_id, latitude=north_of_edge(400)))  # the old key is cached now

    old_key, phone.key = phone.key, Ed25519PrivateKey.generate()
    await checkin.seed_device_key(phone.student.student_id, phone.key)
    accepted(await phone.check_in(round_id, latitude=north_of_edge(400)))

    phone.key = old_key
    assert (await phone.check_in(round_id)).status_code == 403


async def test_the_key_identity_announces_signs_check_ins_and_a_late_older_one_is_ignored(
    checkin: RunningCheckin,
) -> None:
    school = await new_school(checkin)
    student = await checkin.seed_student(lineage={**LINEAGE, "school": school})
    phone = Phone(checkin, student, Ed25519PrivateKey.generate(), "device-" + uuid.uuid4().hex)
    round_id = await decided_at_once(checkin)
    assert (await phone.check_in(round_id)).status_code == 403  # nothing announced yet

    def announced(key: Ed25519PrivateKey, at: datetime) -> DeviceRegistered:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return DeviceRegistered(
            student_id=student.student_id,
            school_code=school,
            public_key=base64.b64encode(raw).decode(),
            registered_at=at,
        )

    now = datetime.now(UTC)
    await checkin.applied(await checkin.publish(announced(phone.key, now), source="identity"))
    await checkin.applied(
        await checkin.publish(
            announced(Ed25519PrivateKey.generate(), now - timedelta(days=1)), source="identity"
        )
    )

    assert accepted(await phone.check_in(round_id))["result"] == "normal"


async def test_a_nonce_is_single_use_and_bound_to_its_student_and_round(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    other = await enrolled(checkin, phone.student.lineage.school)
    round_id = await decided_at_once(checkin)
    other_round = await decided_at_once(checkin)

    nonce = await phone.nonce(round_id)
    selfie = selfie_jpeg()
    accepted(await phone.send(phone.payload(round_id, nonce, selfie, latitude=north_of_edge(400)), selfie))
    again = selfie_jpeg()
    replay = await phone.send(phone.payload(round_id, nonce, again), again)
    assert replay.status_code == 422, replay.text
    assert replay.json()["errors"][0]["field"] == "payload.nonce"

    theirs = await other.nonce(round_id)
    assert (await phone.send(phone.payload(round_id, theirs, again), again)).status_code == 422
    elsewhere = await phone.nonce(other_round)
    assert (await phone.send(phone.payload(round_id, elsewhere, again), again)).status_code == 422
    made_up = await phone.send(phone.payload(round_id, "x" * 32, again), again)
    assert made_up.status_code == 422


# --- the geofence ---------------------------------------------------------------------------------


async def test_gcj02_fixes_just_inside_and_just_outside_a_wgs84_boundary(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    inside = wgs84_to_gcj02(north_of_edge(-4.0), LON)  # 4 m inside, as AMap reports it
    outside = wgs84_to_gcj02(north_of_edge(4.0), LON)
    # The datum shift here is hundreds of metres: read as WGS-84 both would land elsewhere.
    assert abs(inside[1] - LON) * M_PER_DEG_LAT > 300

    out = accepted(
        await phone.check_in(
            round_id, latitude=outside[0], longitude=outside[1], crs="GCJ-02", accuracy_m=1.0
        )
    )
    assert out["result"] == "off_campus"
    ok = accepted(
        await phone.check_in(round_id, latitude=inside[0], longitude=inside[1], crs="GCJ-02", accuracy_m=1.0)
    )
    assert ok["result"] == "normal"


async def test_wgs84_fixes_against_a_boundary_drawn_in_gcj02(checkin: RunningCheckin) -> None:
    # The campus square as a GCJ-02 map draws it (corners shifted some 560 m from WGS-84).
    half = CAMPUS_HALF_SIDE_DEG
    corners = [(-1, -1), (-1, 1), (1, 1), (1, -1), (-1, -1)]
    ring = [
        [lon, lat] for lat, lon in (wgs84_to_gcj02(LAT + dy * half, LON + dx * half) for dy, dx in corners)
    ]
    school = await new_school(checkin, boundary={"type": "Polygon", "coordinates": [ring]}, crs="GCJ-02")
    phone = await enrolled(checkin, school)
    round_id = await decided_at_once(checkin)

    out = accepted(await phone.check_in(round_id, latitude=north_of_edge(6.0), accuracy_m=1.0))
    assert out["result"] == "off_campus"
    ok = accepted(await phone.check_in(round_id, latitude=north_of_edge(-6.0), accuracy_m=1.0))
    assert ok["result"] == "normal"


async def test_a_fix_straddling_the_boundary_is_not_called_off_campus(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)

    # The centre 30 m outside the fence, but the phone says it may be 80 m off.
    body = accepted(await phone.check_in(round_id, latitude=north_of_edge(30.0), accuracy_m=80.0))

    assert (body["result"], body["reasons"]) == ("normal", ["boundary_uncertain"])
    assert body["reasons_zh"] == ["定位精度范围跨越校区边界，按在校处理"]


async def test_a_coarse_fix_outside_is_judged_by_its_centre(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    body = accepted(
        await phone.check_in(await decided_at_once(checkin), latitude=north_of_edge(900.0), accuracy_m=5000.0)
    )
    assert (body["result"], body["reasons"]) == ("off_campus", ["outside_campus", "accuracy_too_coarse"])


# --- suspected cheating --------------------------------------------------------------------------


@pytest.mark.parametrize(("signal", "reason"), [("emulator", "emulator"), ("mock_location", "mock_location")])
async def test_emulator_or_mock_location_is_suspected_cheating_and_gets_a_face_check(
    checkin: RunningCheckin, signal: str, reason: str
) -> None:
    phone = await enrolled(checkin)
    signs: dict[str, Any] = {signal: True}
    body = accepted(await phone.check_in(await decided_at_once(checkin), **signs))

    assert body["state"] == "awaiting_face"  # suspicious: the face is checked whatever the policy
    decided = await face_answers(checkin, phone, body["check_in_id"], "match")
    assert (decided["result"], decided["reasons"], decided["final"]) == (
        "suspected_cheating",
        [reason],
        False,
    )
    assert decided["result_zh"] == "疑似作弊"


async def test_rooted_alone_is_only_a_face_check(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    body = accepted(await phone.check_in(await decided_at_once(checkin), rooted=True))
    assert body["state"] == "awaiting_face"
    decided = await face_answers(checkin, phone, body["check_in_id"], "match")
    assert (decided["result"], decided["final"]) == ("normal", True)


async def test_a_face_that_does_not_match_is_suspected_cheating(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    body = accepted(await phone.check_in((await checkin.seed_round()).id))  # every face checked
    assert body["state"] == "awaiting_face" and body["result"] is None
    decided = await face_answers(checkin, phone, body["check_in_id"], "no_match")
    assert (decided["result"], decided["reasons"]) == ("suspected_cheating", ["face_no_match"])
    assert decided["reasons_zh"] == ["人脸与本人不符"]


async def test_the_same_selfie_bytes_sent_again_by_anyone_are_suspected_cheating(
    checkin: RunningCheckin,
) -> None:
    phone = await enrolled(checkin)
    friend = await enrolled(checkin, phone.student.lineage.school)
    round_id = await decided_at_once(checkin)
    selfie = selfie_jpeg()
    assert accepted(await phone.check_in(round_id, selfie=selfie))["result"] == "normal"

    body = accepted(await friend.check_in(round_id, selfie=selfie))
    decided = await face_answers(checkin, friend, body["check_in_id"], "match")
    assert (decided["result"], decided["reasons"]) == ("suspected_cheating", ["selfie_replayed"])


async def test_an_impossible_speed_between_two_attempts_is_suspected_cheating(
    checkin: RunningCheckin,
) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    # Beijing, then Zhengzhou (about 620 km) a moment later.
    first = accepted(await phone.check_in(round_id, latitude=39.915, longitude=116.404))
    assert first["result"] == "off_campus"

    body = accepted(await phone.check_in(round_id))
    assert body["state"] == "awaiting_face"
    decided = await face_answers(checkin, phone, body["check_in_id"], "match")
    assert (decided["result"], decided["reasons"]) == ("suspected_cheating", ["impossible_speed"])

    # Standing still after that is no jump: the next attempt is normal.
    assert accepted(await phone.check_in(round_id))["result"] == "normal"


async def test_one_device_checking_in_many_students_needs_their_faces(checkin: RunningCheckin) -> None:
    school = await new_school(checkin)
    round_id = await decided_at_once(checkin)
    device = "shared-" + uuid.uuid4().hex
    phones = [await enrolled(checkin, school) for _ in range(4)]
    for phone in phones:
        phone.device_id = device

    for phone in phones[:2]:
        assert accepted(await phone.check_in(round_id))["result"] == "normal"
    third = accepted(await phones[2].check_in(round_id))
    fourth = accepted(await phones[3].check_in(round_id))
    assert third["state"] == fourth["state"] == "awaiting_face"

    impostor = await face_answers(checkin, phones[2], third["check_in_id"], "no_match")
    assert (impostor["result"], impostor["reasons"]) == (
        "suspected_cheating",
        ["face_no_match", "shared_device"],
    )
    owner = await face_answers(checkin, phones[3], fourth["check_in_id"], "match")
    assert owner["result"] == "normal"  # sharing a phone is allowed when the face is the student's


# --- the face flow through events ----------------------------------------------------------------


async def test_face_check_end_to_end_through_events(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = (await checkin.seed_round()).id
    selfie = selfie_jpeg()
    body = accepted(await phone.check_in(round_id, selfie=selfie))
    check_in_id = body["check_in_id"]

    [request] = [
        e
        for e in await checkin.outbox("checkin.face.verification_requested")
        if e.data["check_in_id"] == check_in_id
    ]
    url = request.data["selfie_url"]
    assert url == f"http://checkin.test/internal/v1/selfies/{check_in_id}"
    assert request.data["student_id"] == phone.student.student_id
    # identity's worker fetches the bytes with the service token, and nobody else can
    assert (await checkin.client.get(url)).status_code == 401
    assert (await checkin.client.get(url, headers=checkin.as_student(phone.student))).status_code == 401
    fetched = await checkin.client.get(url, headers={"Authorization": f"Service {SERVICE_TOKEN}"})
    assert fetched.status_code == 200 and fetched.content == selfie
    assert fetched.headers["content-type"] == "image/jpeg"
    assert not await decided_events(checkin, check_in_id)

    decided = await face_answers(checkin, phone, check_in_id, "match")
    assert (decided["result"], decided["final"]) == ("normal", True)
    [event] = await decided_events(checkin, check_in_id)
    assert event.data["final"] and event.data["result"] == "normal"
    assert event.causation_id is not None  # caused by identity's result

    # identity answering twice (a new event for the same attempt) changes nothing
    again = await checkin.publish(
        FaceVerified(check_in_id=check_in_id, student_id=phone.student.student_id, outcome="no_match"),
        source="identity",
    )
    await checkin.applied(again)
    assert (await view(checkin, phone, check_in_id))["result"] == "normal"
    assert len(await decided_events(checkin, check_in_id)) == 1


async def test_a_face_result_for_a_replaced_attempt_is_recorded_but_does_not_count(
    checkin: RunningCheckin,
) -> None:
    phone = await enrolled(checkin)
    round_id = (await checkin.seed_round()).id
    first = accepted(await phone.check_in(round_id))
    second = accepted(await phone.check_in(round_id))  # replaces the first while it waits

    late = await face_answers(checkin, phone, first["check_in_id"], "match")
    assert (late["result"], late["final"]) == ("normal", False)
    [event] = await decided_events(checkin, first["check_in_id"])
    assert not event.data["final"]
    async with checkin.ctx.sessionmaker() as session:
        attendance = await session.get(RoundAttendance, (round_id, phone.student.student_id))
    assert attendance is not None
    assert (str(attendance.current_check_in_id), attendance.result, attendance.final) == (
        second["check_in_id"],
        None,
        False,
    )

    counted = await face_answers(checkin, phone, second["check_in_id"], "match")
    assert counted["final"]


async def test_a_selfie_is_purged_after_its_retention(checkin: RunningCheckin) -> None:
    from services.checkin.selfie_retention import purge_expired_selfies

    phone = await enrolled(checkin)
    body = accepted(await phone.check_in((await checkin.seed_round()).id))
    await face_answers(checkin, phone, body["check_in_id"], "no_match")
    url = f"/internal/v1/selfies/{body['check_in_id']}"
    service = {"Authorization": f"Service {SERVICE_TOKEN}"}
    assert (await checkin.client.get(url, headers=service)).status_code == 200  # kept for an appeal

    await purge_expired_selfies(checkin.ctx, datetime.now(UTC) + timedelta(days=31))
    assert (await checkin.client.get(url, headers=service)).status_code == 404


# --- leave, internships and other refusals -------------------------------------------------------


async def _absence(checkin: RunningCheckin, row: Leave | Internship) -> None:
    async with checkin.ctx.sessionmaker() as session:
        session.add(row)
        await session.commit()


async def test_a_student_on_approved_leave_is_not_called(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    today = datetime.now(UTC).date()
    await _absence(
        checkin,
        Leave(
            student_id=phone.student.student_id,
            school_code=phone.student.lineage.school,
            term="2026-autumn",
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=2),
            reason="病假",
            state="approved",
        ),
    )
    refused = await phone.check_in(await decided_at_once(checkin))
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "urn:xueji:problem:not-eligible"
    assert refused.json()["title_zh"] == "请假期间不参与学籍核验"


async def test_outside_on_a_filed_internship_is_internship_and_final(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    today = datetime.now(UTC).date()
    await _absence(
        checkin,
        Internship(
            student_id=phone.student.student_id,
            school_code=phone.student.lineage.school,
            company="郑州宇通客车股份有限公司",
            address="郑州市管城回族区宇通路",
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=60),
            filed_by="registrar",
        ),
    )
    round_id = await decided_at_once(checkin)
    body = accepted(await phone.check_in(round_id, latitude=34.70, longitude=113.70))
    assert (body["result"], body["result_zh"], body["reasons"]) == (
        "internship",
        "正在实习",
        ["on_internship"],
    )
    assert (await phone.check_in(round_id)).status_code == 409  # final


async def test_an_internship_that_ended_does_not_cover_today(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    await _absence(
        checkin,
        Internship(
            student_id=phone.student.student_id,
            school_code=phone.student.lineage.school,
            company="某公司",
            address="某地",
            starts_on=date(2025, 3, 1),
            ends_on=date(2025, 6, 30),
            filed_by="registrar",
        ),
    )
    body = accepted(await phone.check_in(await decided_at_once(checkin), latitude=34.70, longitude=113.70))
    assert body["result"] == "off_campus"


async def test_rounds_not_open_and_students_not_called_are_refused(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    now = datetime.now(UTC)
    ended = await checkin.seed_round(
        starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1), state="closed"
    )
    assert (await phone.challenge(ended.id)).status_code == 409
    assert (await phone.challenge(uuid.uuid4())).status_code == 404

    other_grade = await checkin.seed_round(grades=[2019], face_policy="sampled", face_sample_rate=0.0)
    refused = await phone.check_in(other_grade.id)
    assert refused.status_code == 403 and refused.json()["type"] == "urn:xueji:problem:not-eligible"

    part_time = await enrolled(checkin, phone.student.lineage.school, study_form="part_time")
    assert (await part_time.check_in(other_grade.id)).status_code == 403

    staff = await checkin.client.post(
        f"/api/v1/rounds/{ended.id}/challenge", headers=checkin.auth(Role.SCHOOL_REGISTRAR)
    )
    assert staff.status_code == 403


async def test_check_ins_are_refused_outside_the_provinces_opening_hours(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    now = datetime.now(UTC)
    round_row = await checkin.seed_round(
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=2),
        face_policy="sampled",
        face_sample_rate=0.0,
    )
    china = ZoneInfo("Asia/Shanghai")
    late = datetime.combine(now.astimezone(china).date(), time(23, 30), china)
    noon = late.replace(hour=12, minute=0)
    selfie = selfie_jpeg()
    text = json.dumps(phone.payload(round_row.id, await phone.nonce(round_row.id), selfie))
    signature = base64.b64encode(phone.key.sign(text.encode())).decode()
    principal = checkin.principal(
        Role.STUDENT, phone.student.lineage.school, student_id=phone.student.student_id
    )
    settings = checkin.ctx.settings
    opens, closes = settings.checkin_opens, settings.checkin_closes
    settings.checkin_opens, settings.checkin_closes = time(7), time(23)  # the seed's hours
    try:
        with pytest.raises(Problem) as refused:
            await accept_check_in(checkin.ctx, principal, text, signature, selfie, now=late)
        assert (refused.value.status, refused.value.slug) == (409, "outside-opening-hours")
        done = await accept_check_in(checkin.ctx, principal, text, signature, selfie, now=noon)
        assert done.decision is not None and done.decision.result.value == "normal"
    finally:
        settings.checkin_opens, settings.checkin_closes = opens, closes


async def test_bad_selfies_and_fields_are_refused_naming_the_field(checkin: RunningCheckin) -> None:
    phone = await enrolled(checkin)
    round_id = await decided_at_once(checkin)
    selfie = selfie_jpeg()

    mismatch = await phone.send(phone.payload(round_id, await phone.nonce(round_id), selfie), selfie_jpeg())
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "payload.selfie_sha256"

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    not_jpeg = await phone.send(
        phone.payload(round_id, await phone.nonce(round_id), png), png, media_type="image/png"
    )
    assert not_jpeg.status_code == 422 and not_jpeg.json()["errors"][0]["field"] == "selfie"

    huge = selfie + b"\0" * (2 * 1024 * 1024)
    too_large = await phone.send(phone.payload(round_id, await phone.nonce(round_id), huge), huge)
    assert too_large.status_code == 413

    wrong = await phone.send(
        phone.payload(round_id, await phone.nonce(round_id), selfie, latitude=123.0, crs="BD-09"), selfie
    )
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json()["errors"]} == {"payload.latitude", "payload.crs"}

    not_json = await phone.send("{not json", selfie)
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "payload"

    missing = await checkin.client.post(
        "/api/v1/check-ins", data={"payload": "{}"}, headers=checkin.as_student(phone.student)
    )
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"body.signature", "body.selfie"}
