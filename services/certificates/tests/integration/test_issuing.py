"""Issuing certificates, electronic certificates and 学历证明书 on the real servers (seed 004 art. 17,
19; issue 8 §4, §5). Approved lists are written straight into the tables, as the review (H4's
routes) leaves them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from deploy.local.certificate_ca import CertificatePaths, ensure_demo_ca
from services.certificates.domain.certificate_number import Series, parse
from services.certificates.domain.qr_claims import QrPayloadRefused
from services.certificates.electronic import uuid7_floor
from services.certificates.keys import trusted_payload_keys
from services.certificates.models import (
    AuditEntry,
    Certificate,
    EducationCertificateRequest,
    GraduationEntry,
    GraduationList,
    new_id,
)
from services.certificates.signing.pades import load_trust_roots, verify_signed_pdf_async
from services.certificates.signing.qr_payload import open_sealed
from services.certificates.tests.integration.approved_lists import approved_list
from services.certificates.tests.integration.conftest import (
    PROVINCE,
    Area,
    RunningCertificates,
    running_certificates,
)
from shared.auth import Role
from shared.events import EventEnvelope
from shared.events.certificates import StudentGraduated
from shared.events.common import StudentSummary
from shared.testing import eventually, temporary_database, temporary_vhost

pytestmark = pytest.mark.integration

ISSUE_DAY = date(2027, 6, 11)


@pytest.fixture(scope="module")
def demo_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificatePaths:
    return ensure_demo_ca(tmp_path_factory.mktemp("demo-ca"), PROVINCE)


@pytest.fixture(scope="module")
async def signed(
    tmp_path_factory: pytest.TempPathFactory, demo_ca: CertificatePaths
) -> AsyncIterator[RunningCertificates]:
    """A certificates process with the demo CA's signing certificate: it makes electronic
    certificates."""
    home: Path = tmp_path_factory.mktemp("certificates-signed")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        async for running in running_certificates(
            home,
            database_url,
            amqp_url,
            certificate_signing_cert_file=demo_ca.signing_cert,
            certificate_signing_key_file=demo_ca.signing_key,
            certificate_trust_roots_file=demo_ca.root_cert,
            certificate_payload_key_file=demo_ca.payload_key,
        ):
            yield running


def pin_today(running: RunningCertificates, day: date) -> None:
    running.ctx.extras["today"] = lambda: day


async def graduands(running: RunningCertificates, area: Area, count: int) -> list[StudentSummary]:
    return [await running.seed_graduand(lineage=area.lineage()) for _ in range(count)]


def province(running: RunningCertificates) -> dict[str, str]:
    return running.auth(Role.PROVINCE, PROVINCE)


async def issue(running: RunningCertificates, list_id: str) -> Any:
    return await running.client.post(f"/api/v1/graduation-lists/{list_id}/issue", headers=province(running))


async def certificates_of(running: RunningCertificates, student_ids: Sequence[str]) -> list[Certificate]:
    async with running.ctx.sessionmaker() as session:
        return list(await session.scalars(select(Certificate).where(Certificate.student_id.in_(student_ids))))


async def issued_class(running: RunningCertificates, area: Area, count: int = 1) -> list[dict[str, Any]]:
    students = await graduands(running, area, count)
    pin_today(running, ISSUE_DAY)
    response = await issue(running, await approved_list(running, area, students))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["certificates"]
    return items


async def graduated_events(running: RunningCertificates, list_id: str) -> list[EventEnvelope]:
    events = await running.outbox(StudentGraduated.event_type)
    return [e for e in events if e.data["graduation_list_id"] == list_id]


# --- issuing ------------------------------------------------------------------------------------


async def test_issue_list__before_11_june_refused(signed: RunningCertificates, area: Area) -> None:
    students = await graduands(signed, area, 2)
    list_id = await approved_list(signed, area, students)
    pin_today(signed, date(2027, 6, 10))

    response = await issue(signed, list_id)

    assert response.status_code == 409, response.text
    assert "2027-06-11" in response.json()["detail"]
    assert await certificates_of(signed, [s.student_id for s in students]) == []
    pin_today(signed, ISSUE_DAY)
    assert (await issue(signed, list_id)).status_code == 200  # and from the day itself it is


async def test_issue_list__certificates_numbers_and_one_event_per_student(
    signed: RunningCertificates, area: Area
) -> None:
    students = await graduands(signed, area, 3)
    outcomes = ["graduated", "completed", "left_without_completing"]
    list_id = await approved_list(signed, area, students, outcomes=outcomes)
    pin_today(signed, ISSUE_DAY)

    response = await issue(signed, list_id)

    assert response.status_code == 200, response.text
    numbers = [item["number"] for item in response.json()["certificates"]]
    assert len(set(numbers)) == 3
    for number in numbers:
        parsed = parse(number)
        assert (parsed.year, parsed.region, parsed.school) == (2027, area.county, area.school)
        assert parsed.series is Series.graduation
    rows = await certificates_of(signed, [s.student_id for s in students])
    assert {r.status for r in rows} == {"valid"}
    assert {r.outcome for r in rows} == set(outcomes)
    assert all(r.face["id_number"] == "41010220090501123X" for r in rows)  # printed in full
    async with signed.ctx.sessionmaker() as session:
        entries = list(
            await session.scalars(select(GraduationEntry).where(GraduationEntry.list_id == list_id))
        )
        graduation_list = await session.get(GraduationList, list_id)
    assert {(e.state, e.graduated_on) for e in entries} == {("issued", ISSUE_DAY)}
    assert {e.certificate_id for e in entries} == {r.id for r in rows}
    assert graduation_list is not None and graduation_list.state == "issued"
    events = [
        e for e in await signed.outbox(StudentGraduated.event_type) if e.data["graduation_list_id"] == list_id
    ]
    assert sorted(e.data["student_id"] for e in events) == sorted(s.student_id for s in students)
    assert sorted(e.data["certificate_number"] for e in events) == sorted(numbers)

    again = await issue(signed, list_id)

    assert again.status_code == 409, again.text
    assert again.json()["type"] == "urn:xueji:problem:already-issued"
    assert len(await certificates_of(signed, [s.student_id for s in students])) == 3
    events_after = [
        e for e in await signed.outbox(StudentGraduated.event_type) if e.data["graduation_list_id"] == list_id
    ]
    assert len(events_after) == 3


async def test_issue_list__a_student_enrollment_does_not_know_refuses_the_whole_list(
    signed: RunningCertificates, area: Area
) -> None:
    students = await graduands(signed, area, 2)
    del signed.peers.facts[students[1].student_id]
    list_id = await approved_list(signed, area, students)
    pin_today(signed, ISSUE_DAY)

    response = await issue(signed, list_id)

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == "urn:xueji:problem:students-unknown"
    assert [e["reason"].split(":")[0] for e in body["errors"]] == [students[1].student_id]
    assert await certificates_of(signed, [s.student_id for s in students]) == []
    async with signed.ctx.sessionmaker() as session:
        graduation_list = await session.get(GraduationList, list_id)
    assert graduation_list is not None and graduation_list.state == "approved"


async def test_issue_list__a_list_under_review_is_not_issued(signed: RunningCertificates, area: Area) -> None:
    list_id = await approved_list(signed, area, await graduands(signed, area, 1), state="under_review")
    pin_today(signed, ISSUE_DAY)

    response = await issue(signed, list_id)

    assert response.status_code == 409
    assert response.json()["type"] == "urn:xueji:problem:list-not-approved"


async def test_issue_list__only_the_province_issues(signed: RunningCertificates, area: Area) -> None:
    list_id = await approved_list(signed, area, await graduands(signed, area, 1))
    pin_today(signed, ISSUE_DAY)

    for role, org in ((Role.SCHOOL_REGISTRAR, area.school), (Role.COUNTY, area.county)):
        response = await signed.client.post(
            f"/api/v1/graduation-lists/{list_id}/issue", headers=signed.auth(role, org)
        )
        assert response.status_code == 403, response.text


# --- reading, QR, electronic certificate ---------------------------------------------------------


async def test_certificate__qr_payload_opens_with_the_trusted_keys(
    signed: RunningCertificates, area: Area
) -> None:
    (item,) = await issued_class(signed, area)
    (row,) = await certificates_of(signed, [item["student_id"]])

    claims = open_sealed(row.qr_url, trusted_payload_keys(signed.settings))

    assert (claims.number, claims.name, claims.issued_on) == (row.number, row.name, ISSUE_DAY)
    assert claims.province == PROVINCE
    assert row.qr_url.startswith("HTTPS://")
    tampered = row.qr_url[:-12] + ("A" if row.qr_url[-12] != "A" else "B") + row.qr_url[-11:]
    with pytest.raises(QrPayloadRefused):
        open_sealed(tampered, trusted_payload_keys(signed.settings))


async def test_certificates__read_masked_in_jurisdiction(signed: RunningCertificates, area: Area) -> None:
    items = await issued_class(signed, area, 2)
    mine = items[0]
    registrar = signed.auth(Role.SCHOOL_REGISTRAR, area.school)

    listed = await signed.client.get(f"/api/v1/certificates?school={area.school}", headers=registrar)
    one = await signed.client.get(f"/api/v1/certificates/{mine['certificate_id']}", headers=registrar)
    by_number = await signed.client.get(f"/api/v1/certificates?number={mine['number']}", headers=registrar)
    other_school = await signed.client.get(
        f"/api/v1/certificates/{mine['certificate_id']}",
        headers=signed.auth(Role.SCHOOL_REGISTRAR, area.other_school),
    )
    student = signed.auth(Role.STUDENT, area.school, student_id=mine["student_id"])
    own = await signed.client.get("/api/v1/my/certificates", headers=student)
    someone_elses = await signed.client.get(
        f"/api/v1/certificates/{items[1]['certificate_id']}", headers=student
    )
    mistyped = await signed.client.get("/api/v1/certificates?number=2027", headers=registrar)

    assert listed.status_code == 200 and listed.json()["total"] == 2
    assert one.status_code == 200
    assert one.json()["id_number_masked"] == "4101**********123X"
    assert "41010220090501123X" not in listed.text + one.text + own.text
    assert [c["id"] for c in by_number.json()["items"]] == [mine["certificate_id"]]
    assert other_school.status_code == 404
    assert [c["number"] for c in own.json()["items"]] == [mine["number"]]
    assert someone_elses.status_code == 404
    assert mistyped.status_code == 422


async def test_electronic_certificate__made_signed_and_verifiable(
    signed: RunningCertificates, area: Area, demo_ca: CertificatePaths
) -> None:
    (item,) = await issued_class(signed, area)
    student = signed.auth(Role.STUDENT, area.school, student_id=item["student_id"])
    url = f"/api/v1/certificates/{item['certificate_id']}/electronic.pdf"

    async def downloaded() -> bytes | None:
        response = await signed.client.get(url, headers=student)
        return response.content if response.status_code == 200 else None

    pdf = await eventually(downloaded, within=60)

    report = await verify_signed_pdf_async(pdf, load_trust_roots(demo_ca.root_cert))
    assert report.intact and report.valid and report.trusted
    assert b"/DCTDecode" in pdf  # the digital photo, a JPEG (the QR is the page's other image)
    other_school = await signed.client.get(url, headers=signed.auth(Role.SCHOOL_REGISTRAR, area.other_school))
    assert other_school.status_code == 404
    county = await signed.client.get(url, headers=signed.auth(Role.COUNTY, area.county))
    assert county.status_code == 200
    async with signed.ctx.sessionmaker() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "download_electronic", AuditEntry.subject == item["certificate_id"])
        )
    assert audited == 2


async def test_electronic_certificate__without_a_signing_certificate_503(
    certificates: RunningCertificates, area: Area
) -> None:
    (item,) = await issued_class(certificates, area)

    response = await certificates.client.get(
        f"/api/v1/certificates/{item['certificate_id']}/electronic.pdf",
        headers=certificates.auth(Role.STUDENT, area.school, student_id=item["student_id"]),
    )

    assert response.status_code == 503, response.text


# --- 学历证明书 ----------------------------------------------------------------------------------


async def apply(running: RunningCertificates, area: Area, item: dict[str, Any]) -> Any:
    return await running.client.post(
        "/api/v1/education-certificate-requests",
        json={"certificate_id": item["certificate_id"], "statement": "搬家时遗失"},
        headers=running.auth(Role.STUDENT, area.school, student_id=item["student_id"]),
    )


async def test_education_certificate__apply_reject_apply_issue(
    signed: RunningCertificates, area: Area
) -> None:
    (item,) = await issued_class(signed, area)
    registrar = signed.auth(Role.SCHOOL_REGISTRAR, area.school)

    first = await apply(signed, area, item)
    assert first.status_code == 201, first.text
    second_open = await apply(signed, area, item)
    assert second_open.status_code == 409
    assert second_open.json()["type"] == "urn:xueji:problem:request-open"
    rejected = await signed.client.post(
        f"/api/v1/education-certificate-requests/{first.json()['id']}/decision",
        json={"decision": "reject", "opinion": "请补充遗失声明"},
        headers=registrar,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "rejected"
    again = await apply(signed, area, item)
    assert again.status_code == 201, again.text
    pending = await signed.client.get(
        "/api/v1/education-certificate-requests?state=requested", headers=registrar
    )
    assert [r["id"] for r in pending.json()["items"]] == [again.json()["id"]]
    pin_today(signed, date(2029, 3, 2))

    issued = await signed.client.post(
        f"/api/v1/education-certificate-requests/{again.json()['id']}/decision",
        json={"decision": "issue", "opinion": "同意"},
        headers=signed.auth(Role.COUNTY, area.county),
    )

    assert issued.status_code == 200, issued.text
    new_number = issued.json()["issued_certificate_number"]
    parsed = parse(new_number)
    assert parsed.series is Series.education_certificate
    assert (parsed.year, parsed.school) == (2027, area.school)
    async with signed.ctx.sessionmaker() as session:
        original = await session.get(Certificate, item["certificate_id"])
        replacement = await session.scalar(select(Certificate).where(Certificate.number == new_number))
    assert original is not None and original.status == "lost" and original.lost_at is not None
    assert replacement is not None and replacement.replaces_id == original.id
    assert (replacement.kind, replacement.status, replacement.issued_on) == (
        "education_certificate",
        "valid",
        date(2029, 3, 2),
    )
    assert replacement.face["name"] == original.face["name"]
    assert replacement.face["id_number"] == original.face["id_number"]
    claims = open_sealed(replacement.qr_url, trusted_payload_keys(signed.settings))
    assert (claims.kind, claims.number) == ("education_certificate", new_number)
    decided_twice = await signed.client.post(
        f"/api/v1/education-certificate-requests/{again.json()['id']}/decision",
        json={"decision": "issue"},
        headers=registrar,
    )
    assert decided_twice.status_code == 409
    lost_again = await apply(signed, area, item)  # the original is lost now: nothing to replace
    assert lost_again.status_code == 409


async def test_education_certificate__a_voided_certificate_is_not_replaced(
    signed: RunningCertificates, area: Area
) -> None:
    (item,) = await issued_class(signed, area)
    request = await apply(signed, area, item)
    assert request.status_code == 201
    async with signed.ctx.sessionmaker() as session:
        row = await session.get(Certificate, item["certificate_id"])
        assert row is not None
        row.status = "voided"
        await session.commit()

    decided = await signed.client.post(
        f"/api/v1/education-certificate-requests/{request.json()['id']}/decision",
        json={"decision": "issue"},
        headers=signed.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    applied_again = await apply(signed, area, item)

    assert decided.status_code == 409
    assert decided.json()["type"] == "urn:xueji:problem:certificate-voided"
    assert applied_again.status_code == 409
    async with signed.ctx.sessionmaker() as session:
        state = await session.scalar(
            select(EducationCertificateRequest.state).where(
                EducationCertificateRequest.id == request.json()["id"]
            )
        )
    assert state == "requested"


async def test_education_certificate__only_the_graduate_applies_and_only_for_their_own(
    signed: RunningCertificates, area: Area
) -> None:
    items = await issued_class(signed, area, 2)
    body = {"certificate_id": items[1]["certificate_id"], "statement": "遗失"}

    not_theirs = await signed.client.post(
        "/api/v1/education-certificate-requests",
        json=body,
        headers=signed.auth(Role.STUDENT, area.school, student_id=items[0]["student_id"]),
    )
    registrar = await signed.client.post(
        "/api/v1/education-certificate-requests",
        json=body,
        headers=signed.auth(Role.SCHOOL_REGISTRAR, area.school),
    )

    assert not_theirs.status_code == 404
    assert registrar.status_code == 403


async def test_issue_list__two_clicks_at_once_issue_once(signed: RunningCertificates, area: Area) -> None:
    students = await graduands(signed, area, 3)
    list_id = await approved_list(signed, area, students)
    pin_today(signed, ISSUE_DAY)

    first, second = await asyncio.gather(issue(signed, list_id), issue(signed, list_id))

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert len(await certificates_of(signed, [s.student_id for s in students])) == 3
    assert len(await graduated_events(signed, list_id)) == 3


async def test_electronic_certificate__no_photo_at_identity_leaves_the_frame_empty(
    signed: RunningCertificates, area: Area, demo_ca: CertificatePaths
) -> None:
    student = await signed.seed_graduand(lineage=area.lineage())
    del signed.peers.photos[student.student_id]
    pin_today(signed, ISSUE_DAY)
    response = await issue(signed, await approved_list(signed, area, [student]))
    (item,) = response.json()["certificates"]
    url = f"/api/v1/certificates/{item['certificate_id']}/electronic.pdf"
    registrar = signed.auth(Role.SCHOOL_REGISTRAR, area.school)

    async def downloaded() -> bytes | None:
        answer = await signed.client.get(url, headers=registrar)
        return answer.content if answer.status_code == 200 else None

    pdf = await eventually(downloaded, within=60)

    assert b"/DCTDecode" not in pdf  # no JPEG: the photo frame is empty
    assert (await verify_signed_pdf_async(pdf, load_trust_roots(demo_ca.root_cert))).trusted
    async with signed.ctx.sessionmaker() as session:
        row = await session.get(Certificate, item["certificate_id"])
        assert row is not None
        row.status = "voided"
        await session.commit()
    voided = await signed.client.get(url, headers=registrar)
    assert voided.status_code == 409


def test_uuid7_floor__orders_ids_by_time() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    made_now = new_id()
    assert uuid7_floor(before) < made_now < uuid7_floor(datetime.now(UTC) + timedelta(seconds=1))


async def test_issue_list__facts_no_certificate_can_print_refuse_the_list(
    signed: RunningCertificates, area: Area
) -> None:
    students = await graduands(signed, area, 2)
    signed.facts_for(students[0], study_start=date(2027, 9, 1))  # starts after it ends
    list_id = await approved_list(signed, area, students)
    pin_today(signed, ISSUE_DAY)

    response = await issue(signed, list_id)

    assert response.status_code == 409, response.text
    assert response.json()["type"] == "urn:xueji:problem:facts-unprintable"
    assert [e["field"] for e in response.json()["errors"]] == ["student_id"]
    assert students[0].student_id in response.json()["errors"][0]["reason"]
    assert await certificates_of(signed, [s.student_id for s in students]) == []


async def test_issue_list__a_name_the_fonts_cannot_print_names_the_student_and_character(
    signed: RunningCertificates, area: Area
) -> None:
    students = await graduands(signed, area, 2)
    # U+2A6A5 𪚥 is in no Noto CJK SC face: Typst would refuse the page (printing/coverage.py).
    signed.facts_for(students[1], name="张𪚥")
    list_id = await approved_list(signed, area, students)
    pin_today(signed, ISSUE_DAY)

    response = await issue(signed, list_id)

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == "urn:xueji:problem:facts-unprintable"
    [error] = body["errors"]
    assert error["reason"].startswith(f"{students[1].student_id}: name ")
    assert "U+2A6A5 𪚥" in error["reason"]
    assert await certificates_of(signed, [s.student_id for s in students]) == []
