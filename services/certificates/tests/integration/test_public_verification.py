"""Public verification on the real servers: by number and name, by QR payload, by a graduate's
code; the page; the per-client rate limit (issue 8 §6).

Certificates are inserted as issuing leaves them, with a QR payload sealed by the province's key;
a void is the status update issuing makes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from services.certificates.domain.certificate_number import Series, compose
from services.certificates.domain.qr_claims import QrClaims
from services.certificates.models import AuditEntry, Certificate, VerificationCode
from services.certificates.printing.face import CertificateKind
from services.certificates.signing.qr_payload import seal
from services.certificates.tests.integration.approved_lists import issued_certificate
from services.certificates.tests.integration.conftest import (
    PROVINCE,
    SCHOOL_NAME,
    Area,
    RunningCertificates,
    running_certificates,
)
from shared.auth import Role
from shared.testing import temporary_database, temporary_vhost

pytestmark = pytest.mark.integration

NAME = "王𬌗"
ID_NUMBER = "41010220090501123X"


async def issue(
    running: RunningCertificates,
    area: Area,
    *,
    name: str = NAME,
    status: str = "valid",
    kind: CertificateKind = "graduation",
    replaces_id: str | None = None,
    student_id: str | None = None,
) -> Certificate:
    """A certificate of ``name`` (a student of its own unless ``student_id`` is given) as issuing
    writes it, its QR sealed with the province's payload key."""
    student = await running.seed_student(
        lineage=area.lineage(), name=name, student_id=student_id or str(uuid.uuid4())
    )
    return await issued_certificate(running, student, kind=kind, status=status, replaces_id=replaces_id)


async def set_status(running: RunningCertificates, certificate_id: str, status: str) -> None:
    async with running.ctx.sessionmaker() as session:
        await session.execute(
            update(Certificate).where(Certificate.id == certificate_id).values(status=status)
        )
        await session.commit()


async def verify(running: RunningCertificates, number: str, name: str) -> dict[str, object]:
    response = await running.client.post(
        "/api/v1/public/verifications", json={"number": number, "name": name}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def verify_qr(running: RunningCertificates, payload: str) -> dict[str, object]:
    response = await running.client.post("/api/v1/public/qr-verifications", json={"payload": payload})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


# --- by number and name ---------------------------------------------------------------------------


async def test_verify_number__valid_shows_masked_data_without_signing_in(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)

    body = await verify(certificates, certificate.number, f" {NAME} ")

    assert body["state"] == "valid"
    shown = body["certificate"]
    assert isinstance(shown, dict)
    assert shown["number"] == certificate.number
    assert shown["id_number_masked"] == "4101**********123X"
    assert shown["school_name"] == SCHOOL_NAME
    assert shown["outcome_zh"] == "毕业"
    assert ID_NUMBER not in str(body)


async def test_verify_number__grouped_as_printed(certificates: RunningCertificates, area: Area) -> None:
    certificate = await issue(certificates, area)
    n = certificate.number
    typed = f"{n[:4]} {n[4:10]} {n[10:20]} {n[20]} {n[21:26]} {n[26:]}"

    assert (await verify(certificates, typed, NAME))["state"] == "valid"


async def test_verify_number__wrong_name_is_unknown_like_a_missing_number(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)
    missing = compose(2027, area.county, area.other_school, Series.graduation, 1)

    wrong_name = await verify(certificates, certificate.number, "王某")
    no_such = await verify(certificates, missing, NAME)

    assert wrong_name["state"] == "unknown"
    assert wrong_name == no_such  # nothing tells that the number exists under another name


async def test_verify_number__mistyped_number_is_caught_by_its_check_digits(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)
    n = certificate.number
    typo = n[:12] + str((int(n[12]) + 1) % 10) + n[13:]

    body = await verify(certificates, typo, NAME)

    assert body["state"] == "mistyped"
    assert body["reason"] == "mistyped"
    assert body["certificate"] is None


async def test_verify_number__voided_after_a_void(certificates: RunningCertificates, area: Area) -> None:
    certificate = await issue(certificates, area)
    assert (await verify(certificates, certificate.number, NAME))["state"] == "valid"

    await set_status(certificates, certificate.id, "voided")

    body = await verify(certificates, certificate.number, NAME)
    assert body["state"] == "voided"
    assert "作废" in str(body["message_zh"])


async def test_verify_number__lost_names_the_certificate_of_education(
    certificates: RunningCertificates, area: Area
) -> None:
    original = await issue(certificates, area, status="lost")
    replacement = await issue(certificates, area, kind="education_certificate", replaces_id=original.id)

    lost = await verify(certificates, original.number, NAME)
    education = await verify(certificates, replacement.number, NAME)

    assert lost["state"] == "lost"
    assert isinstance(lost["certificate"], dict) and lost["certificate"]["replaced_by"] == replacement.number
    assert education["state"] == "valid"
    assert isinstance(education["certificate"], dict)
    assert education["certificate"]["kind_zh"] == "学历证明书"
    assert education["certificate"]["replaces"] == original.number


async def test_verify_number__lost_with_a_wrong_name_is_unknown(
    certificates: RunningCertificates, area: Area
) -> None:
    original = await issue(certificates, area, status="lost")
    await issue(certificates, area, kind="education_certificate", replaces_id=original.id)

    assert (await verify(certificates, original.number, "王某"))["state"] == "unknown"


async def test_verify_number__a_malformed_body_is_422_problem_details(
    certificates: RunningCertificates,
) -> None:
    response = await certificates.client.post("/api/v1/public/verifications", json={"number": "1"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


# --- by QR payload --------------------------------------------------------------------------------


async def test_verify_qr__valid_then_voided_since_printed(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)

    printed = await verify_qr(certificates, certificate.qr_url)
    await set_status(certificates, certificate.id, "voided")
    after_void = await verify_qr(certificates, certificate.qr_url)

    assert printed["state"] == "valid" and printed["changed_since_printed"] is False
    assert after_void["state"] == "voided" and after_void["changed_since_printed"] is True


async def test_verify_qr__tampered_payload_is_refused_with_a_reason(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)
    url = certificate.qr_url
    at = len(url) - 40  # inside the signed bytes, well past the URL's base
    flipped = url[:at] + ("A" if url[at] != "A" else "B") + url[at + 1 :]

    body = await verify_qr(certificates, flipped)

    assert body["state"] == "refused"
    assert body["reason"] in {"bad_signature", "malformed"}
    assert body["certificate"] is None


async def test_verify_qr__not_a_payload_is_refused(certificates: RunningCertificates) -> None:
    body = await verify_qr(certificates, "https://example.com/not-ours?x=1")

    assert (body["state"], body["reason"]) == ("refused", "not_a_payload")


async def test_verify_qr__a_payload_sealed_by_another_key_is_refused(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    certificate = await issue(certificates, area)
    claims = QrClaims(
        number=certificate.number,
        name=NAME,
        school_name=SCHOOL_NAME,
        issued_on=date(2027, 6, 11),
        outcome="graduated",
        kind="graduation",
        province=PROVINCE,
    )
    forged = seal(
        claims,
        Ed25519PrivateKey.generate(),
        "41-forged00",
        base_url=certificates.settings.certificate_verify_url,
    )

    body = await verify_qr(certificates, forged)

    assert (body["state"], body["reason"]) == ("refused", "unknown_key")


async def test_qr_url__lands_on_the_page_in_either_case(
    certificates: RunningCertificates, area: Area
) -> None:
    certificate = await issue(certificates, area)
    path = "/C/" + certificate.qr_url.rsplit("/", 1)[-1]

    upper = await certificates.client.get(path)
    lower = await certificates.client.get(path.lower())

    for response in (upper, lower):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        assert "真实有效" in response.text and NAME in response.text
        assert "4101**********123X" in response.text and ID_NUMBER not in response.text


async def test_page__form_answers_and_escapes(certificates: RunningCertificates, area: Area) -> None:
    certificate = await issue(certificates, area, name="<b>王</b>")

    blank = await certificates.client.get("/verify")
    answered = await certificates.client.post(
        "/verify", data={"number": certificate.number, "name": "<b>王</b>"}
    )

    assert blank.status_code == 200 and "<form" in blank.text
    assert answered.status_code == 200
    assert "真实有效" in answered.text
    assert "&lt;b&gt;王&lt;/b&gt;" in answered.text and "<b>王</b>" not in answered.text


# --- verification codes ---------------------------------------------------------------------------


async def ask_code(
    running: RunningCertificates, certificate_id: str, valid_days: int, headers: dict[str, str]
) -> httpx.Response:
    """A graduate (or whoever ``headers`` names) asks for a verification code."""
    return await running.client.post(
        "/api/v1/my/verification-codes",
        json={"certificate_id": certificate_id, "valid_days": valid_days},
        headers=headers,
    )


async def test_code__works_then_expires(certificates: RunningCertificates, area: Area) -> None:
    student_id = str(uuid.uuid4())
    certificate = await issue(certificates, area, student_id=student_id)
    graduate = certificates.auth(Role.STUDENT, area.school, student_id=student_id)

    made = await ask_code(certificates, certificate.id, 30, graduate)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert len(code) == 12
    expires_at = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(days=29, hours=23) < expires_at - datetime.now(UTC) <= timedelta(days=30)

    live = await certificates.client.get(f"/api/v1/public/verification-codes/{made.json()['code_grouped']}")
    assert live.json()["state"] == "valid"
    assert live.json()["certificate"]["number"] == certificate.number

    async with certificates.ctx.sessionmaker() as session:
        await session.execute(
            update(VerificationCode)
            .where(VerificationCode.code == code)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.subject == certificate.id, AuditEntry.action == "verification_code.created"
            )
        )

    expired = await certificates.client.get(f"/api/v1/public/verification-codes/{code}")
    assert expired.status_code == 200
    assert expired.json()["state"] == "expired"
    assert expired.json()["certificate"] is None
    assert audit is not None and code not in str(audit.detail)


async def test_code__revoked_answers_expired_and_lists_as_dead(
    certificates: RunningCertificates, area: Area
) -> None:
    student_id = str(uuid.uuid4())
    certificate = await issue(certificates, area, student_id=student_id)
    graduate = certificates.auth(Role.STUDENT, area.school, student_id=student_id)
    made = await ask_code(certificates, certificate.id, 1, graduate)
    code = made.json()["code"]

    revoked = await certificates.client.delete(f"/api/v1/my/verification-codes/{code}", headers=graduate)
    listed = await certificates.client.get("/api/v1/my/verification-codes", headers=graduate)
    answered = await certificates.client.get(f"/api/v1/public/verification-codes/{code}")

    assert revoked.status_code == 204
    assert [(c["code"], c["revoked"], c["live"]) for c in listed.json()] == [(code, True, False)]
    assert answered.json()["state"] == "expired"


async def test_code__not_for_anothers_certificate(certificates: RunningCertificates, area: Area) -> None:
    certificate = await issue(certificates, area, student_id=str(uuid.uuid4()))
    someone_else = certificates.auth(Role.STUDENT, area.school, student_id=str(uuid.uuid4()))

    made = await ask_code(certificates, certificate.id, 30, someone_else)

    assert made.status_code == 404
    assert made.headers["content-type"].startswith("application/problem+json")


async def test_code__nor_to_revoke_anothers_code(certificates: RunningCertificates, area: Area) -> None:
    owner_id = str(uuid.uuid4())
    certificate = await issue(certificates, area, student_id=owner_id)
    owner = certificates.auth(Role.STUDENT, area.school, student_id=owner_id)
    made = await ask_code(certificates, certificate.id, 5, owner)
    someone_else = certificates.auth(Role.STUDENT, area.school, student_id=str(uuid.uuid4()))

    response = await certificates.client.delete(
        f"/api/v1/my/verification-codes/{made.json()['code']}", headers=someone_else
    )
    answered = await certificates.client.get(f"/api/v1/public/verification-codes/{made.json()['code']}")

    assert response.status_code == 404
    assert answered.json()["state"] == "valid"


async def test_code__a_voided_certificate_cannot_be_shared(
    certificates: RunningCertificates, area: Area
) -> None:
    student_id = str(uuid.uuid4())
    certificate = await issue(certificates, area, student_id=student_id, status="voided")

    made = await ask_code(
        certificates, certificate.id, 30, certificates.auth(Role.STUDENT, area.school, student_id=student_id)
    )

    assert made.status_code == 409


@pytest.mark.parametrize("days", [0, 91])
async def test_code__valid_days_1_to_90(certificates: RunningCertificates, area: Area, days: int) -> None:
    student_id = str(uuid.uuid4())
    certificate = await issue(certificates, area, student_id=student_id)

    made = await ask_code(
        certificates,
        certificate.id,
        days,
        certificates.auth(Role.STUDENT, area.school, student_id=student_id),
    )

    assert made.status_code == 422


async def test_code__only_a_graduate_makes_codes(certificates: RunningCertificates, area: Area) -> None:
    certificate = await issue(certificates, area)

    made = await ask_code(
        certificates, certificate.id, 30, certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    )
    anonymous = await certificates.client.post(
        "/api/v1/my/verification-codes", json={"certificate_id": certificate.id, "valid_days": 30}
    )

    assert made.status_code == 403
    assert anonymous.status_code == 401


async def test_code__an_unknown_code_is_unknown(certificates: RunningCertificates) -> None:
    for code in ("AAAABBBBCCCC", "not a code"):
        response = await certificates.client.get(f"/api/v1/public/verification-codes/{code}")
        assert response.status_code == 200
        assert response.json()["state"] == "unknown"


# --- the rate limit -------------------------------------------------------------------------------

LIMIT = 3


@pytest.fixture(scope="module")
async def limited(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningCertificates]:
    """A certificates process of its own allowing 3 verifications per client per minute."""
    home: Path = tmp_path_factory.mktemp("certificates-limited")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        async for running in running_certificates(
            home, database_url, amqp_url, verification_per_minute=LIMIT
        ):
            yield running


async def test_rate_limit__the_n_plus_first_gets_429_and_another_client_passes(
    limited: RunningCertificates, area: Area
) -> None:
    certificate = await issue(limited, area)
    body = {"number": certificate.number, "name": NAME}
    first = "198.51.100.7"
    transport = httpx.ASGITransport(app=limited.app, client=(first, 50000))
    other = httpx.ASGITransport(app=limited.app, client=("203.0.113.9", 50001))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://certificates.test") as client,
        httpx.AsyncClient(transport=other, base_url="http://certificates.test") as second_client,
    ):
        answers = [await client.post("/api/v1/public/verifications", json=body) for _ in range(LIMIT)]
        over = await client.post("/api/v1/public/verifications", json=body)
        over_by_qr = await client.post(
            "/api/v1/public/qr-verifications", json={"payload": certificate.qr_url}
        )
        over_on_page = await client.get("/C/" + certificate.qr_url.rsplit("/", 1)[-1])
        second = await second_client.post("/api/v1/public/verifications", json=body)

    assert [a.json()["state"] for a in answers] == ["valid"] * LIMIT
    assert over.status_code == 429
    assert over.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.json()["title_zh"] == "请求过于频繁"
    assert over_by_qr.status_code == 429  # one budget for every public channel
    assert over_on_page.status_code == 429 and "retry-after" in over_on_page.headers
    assert second.status_code == 200 and second.json()["state"] == "valid"


async def test_rate_limit__forwarded_for_is_not_believed(limited: RunningCertificates, area: Area) -> None:
    certificate = await issue(limited, area)
    body = {"number": certificate.number, "name": NAME}
    transport = httpx.ASGITransport(app=limited.app, client=("192.0.2.44", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://certificates.test") as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/public/verifications", json=body, headers={"X-Forwarded-For": f"10.9.9.{i}"}
                )
            ).status_code
            for i in range(LIMIT + 1)
        ]

    assert statuses == [200] * LIMIT + [429]
