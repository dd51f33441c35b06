"""Face consent, capture, the stored template, proxy flags, direct verification, the ID photo.

Few photos, each at most 640 px: every face check costs ~0.2 s of CPU."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from services.identity.api.common import TEMPLATE_KEYS
from services.identity.faces.templates import SealedTemplate, TemplateKeys, TemplateUnreadable
from services.identity.models import Account, AuditEntry, FaceTemplate
from services.identity.tests.integration.conftest import (
    SERVICE_TOKEN,
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
    registrar,
)

pytestmark = pytest.mark.integration


async def _consent(identity: RunningIdentity, student: Account, decision: str = "granted") -> None:
    response = await identity.client.put(
        "/api/v1/me/face-consent", json={"decision": decision}, headers=identity.mint(as_student(student))
    )
    assert response.status_code == 200, response.text


async def _capture(identity: RunningIdentity, student: Account, photo: str) -> dict[str, object]:
    response = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo(photo)}, headers=identity.mint(as_student(student))
    )
    body: dict[str, object] = response.json()
    body["_status"] = response.status_code
    return body


async def _template(identity: RunningIdentity, student: Account) -> FaceTemplate:
    async with identity.ctx.sessionmaker() as session:
        row = await session.scalar(select(FaceTemplate).where(FaceTemplate.account_id == student.id))
    assert row is not None
    return row


async def test_capture_face__refused_without_a_recorded_consent(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    body = await _capture(identity, student, "obama/obama_small.jpg")
    assert body["_status"] == 409
    assert body["type"] == "urn:xueji:problem:face-consent-required"


@pytest.mark.parametrize(
    ("photo", "reason"),
    [("multi/two_people.jpg", "several_faces"), ("obama/obama_partial_face.jpg", "face_cut_off")],
)
async def test_capture_face__unusable_photos_are_refused_with_their_reason(
    identity: RunningIdentity, photo: str, reason: str
) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    body = await _capture(identity, student, photo)
    assert body["_status"] == 422
    errors = body["errors"]
    assert isinstance(errors, list)
    issue = errors[0]
    assert issue["field"] == "photo"
    assert issue["reason"].startswith(reason)
    assert issue["reason_zh"]


async def test_capture_face__not_an_image_is_a_field_problem(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    response = await identity.client.post(
        "/api/v1/me/face",
        files={"photo": ("x.jpg", b"not a jpeg", "image/jpeg")},
        headers=identity.mint(as_student(student)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "photo"


async def test_capture_face__template_is_sealed_and_unreadable_without_the_key(
    identity: RunningIdentity,
) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    body = await _capture(identity, student, "obama/obama_small.jpg")
    assert body["_status"] == 201, body
    assert body["photo_version"] == 1
    assert body["content_hash"] == hashlib.sha256(face_photo("obama/obama_small.jpg")[1]).hexdigest()
    row = await _template(identity, student)
    assert student.student_id is not None
    keys: TemplateKeys = identity.ctx.extras[TEMPLATE_KEYS]
    sealed = SealedTemplate(row.key_id, row.sealed)

    descriptor = keys.open(sealed, student.student_id)
    assert descriptor.shape == (128,)
    # The plain descriptor's bytes do not appear in the row.
    assert descriptor.astype("<f8").tobytes()[:16] not in row.sealed
    with pytest.raises(TemplateUnreadable):
        TemplateKeys({row.key_id: b"\x00" * 32}, row.key_id).open(sealed, student.student_id)
    with pytest.raises(TemplateUnreadable):  # moved onto another student's row
        keys.open(sealed, "another-student")


async def test_capture_face__recapture_replaces_the_template_and_bumps_the_photo_version(
    identity: RunningIdentity,
) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    assert (await _capture(identity, student, "biden/biden1.jpg"))["_status"] == 201
    first = await _template(identity, student)
    second_body = await _capture(identity, student, "biden/biden2.jpg")
    assert second_body["photo_version"] == 2
    second = await _template(identity, student)
    assert second.sealed != first.sealed
    assert second.photo_version == 2


async def test_capture_face__same_face_at_the_same_school_is_flagged_as_possible_proxy(
    identity: RunningIdentity,
) -> None:
    first = await enrolled_student(identity)
    second = await enrolled_student(identity)
    for student in (first, second):
        await _consent(identity, student)
    assert (await _capture(identity, first, "rose_leslie/rose1.jpg"))["possible_proxy"] is False
    body = await _capture(identity, second, "rose_leslie/rose2.jpg")
    assert body["_status"] == 201
    assert body["possible_proxy"] is True
    assert (await _template(identity, second)).possible_proxy_of == first.student_id


async def test_verify_directly__same_person_matches_other_person_does_not_group_photo_is_a_result(
    identity: RunningIdentity,
) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    assert (await _capture(identity, student, "kit_harington/kit2.jpeg"))["_status"] == 201

    async def verify(photo: str) -> dict[str, object]:
        response = await identity.client.post(
            "/api/v1/faces/verify",
            data={"student_id": student.student_id or ""},
            files={"photo": face_photo(photo)},
            headers=identity.mint(registrar()),
        )
        assert response.status_code == 200, response.text
        result: dict[str, object] = response.json()
        return result

    same = await verify("kit_harington/kit3.jpg")
    other = await verify("obama/obama_small.jpg")
    group = await verify("multi/kit_with_rose.jpg")

    assert same["outcome"] == "match"
    assert isinstance(same["distance"], float) and same["distance"] < 0.6
    assert other["outcome"] == "no_match"
    assert group["outcome"] == "several_faces"
    assert group["reason_zh"]
    async with identity.ctx.sessionmaker() as session:
        outcomes = set(
            await session.scalars(
                select(AuditEntry.outcome).where(
                    AuditEntry.account_id == str(student.id), AuditEntry.kind == "face_verification"
                )
            )
        )
    assert outcomes == {"match", "no_match", "several_faces"}


async def test_verify_directly__outside_the_jurisdiction_is_not_found(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    response = await identity.client.post(
        "/api/v1/faces/verify",
        data={"student_id": student.student_id or ""},
        files={"photo": face_photo("obama/obama_small.jpg")},
        headers=identity.mint(registrar(school="4141019999")),
    )
    assert response.status_code == 404


async def test_declined_consent__counselor_records_in_person_verification(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student, "declined")
    assert (await _capture(identity, student, "obama/obama_small.jpg"))["_status"] == 409
    response = await identity.client.post(
        f"/api/v1/students/{student.student_id}/in-person-verification", headers=identity.mint(registrar())
    )
    assert response.status_code == 204, response.text


async def test_id_photo__served_to_services_only(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    await _consent(identity, student)
    body = await _capture(identity, student, "obama/obama_small.jpg")
    url = f"/internal/v1/students/{student.student_id}/photo"

    refused = await identity.client.get(url, headers={"Authorization": "Service wrong-token-000000"})
    served = await identity.client.get(url, headers={"Authorization": f"Service {SERVICE_TOKEN}"})

    assert refused.status_code == 401
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == body["content_hash"]
    assert served.headers["x-photo-version"] == "1"
