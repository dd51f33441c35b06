"""Real-name activation: name + ID number + phone → code on the phone → password + device key."""

from __future__ import annotations

import base64
import random
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from services.identity.api.common import NOTIFIER
from services.identity.id_digest import resident_id_digest
from services.identity.models import Account, DeviceKey
from services.identity.notify import LogSender
from services.identity.tests.integration.conftest import (
    DIGEST_KEY,
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
)
from shared.bus.tables import OutboxMessage
from shared.events import EventEnvelope
from shared.idnumber import make_resident_id, mask_id_number

pytestmark = pytest.mark.integration


def _device_key() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


async def _announced_keys(identity: RunningIdentity, student_id: str) -> list[str]:
    """The device keys identity announced for a student (identity.device.registered), in order."""
    async with identity.ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == "identity.device.registered")
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
        envelopes = [EventEnvelope.from_bytes(row.body) for row in rows]
    return [e.data["public_key"] for e in envelopes if e.data["student_id"] == student_id]


def _phone() -> str:
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


def _twins() -> tuple[str, str]:
    """Two valid resident IDs with the same masked form (first 4 and last 4 characters)."""
    sequence = random.randint(100, 999)
    first = make_resident_id("410102", date(2009, 5, 1), sequence)
    day = date(2009, 5, 2)
    while True:
        other = make_resident_id("410102", day, sequence)
        if other[-4:] == first[-4:]:
            return first, other
        day += timedelta(days=1)


async def _student_with(identity: RunningIdentity, id_number: str, *, digest: bool = True) -> Account:
    return await enrolled_student(
        identity,
        name="李四",
        id_number_masked=mask_id_number(id_number),
        id_number_digest=resident_id_digest(DIGEST_KEY, id_number) if digest else None,
    )


async def _ask_code(identity: RunningIdentity, id_number: str, phone: str, name: str = "李四") -> Any:
    return await identity.client.post(
        "/api/v1/activation/code", json={"name": name, "id_number": id_number, "phone": phone}
    )


def _sent(identity: RunningIdentity, phone: str) -> str:
    sender: LogSender = identity.ctx.extras[NOTIFIER]
    return sender.sent[phone]


async def test_activation__code_then_password_activates_and_signs_in(identity: RunningIdentity) -> None:
    id_number, _ = _twins()
    student = await _student_with(identity, id_number)
    phone = _phone()
    asked = await _ask_code(identity, id_number, phone)
    assert asked.status_code == 202, asked.text
    finish = await identity.client.post(
        "/api/v1/activation",
        json={
            "ticket": asked.json()["ticket"],
            "code": _sent(identity, phone),
            "password": "a-good-password-1",
            "device_public_key": _device_key(),
        },
    )
    assert finish.status_code == 200, finish.text
    assert (await identity.sign_in(student.username, "a-good-password-1")).status_code == 200
    async with identity.ctx.sessionmaker() as session:
        account = await session.get(Account, student.id)
        device = await session.get(DeviceKey, student.id)
    assert account is not None and account.status == "active" and account.phone == phone
    assert device is not None and len(device.public_key) == 32
    # checkin learns the key in the same commit (it verifies every check-in's signature with it)
    assert student.student_id is not None
    announced = await _announced_keys(identity, student.student_id)
    assert announced == [base64.b64encode(device.public_key).decode()]


async def test_activation__someone_elses_number_with_the_same_mask_is_refused(
    identity: RunningIdentity,
) -> None:
    mine, theirs = _twins()
    await _student_with(identity, mine)
    response = await _ask_code(identity, theirs, _phone())
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "id_number"


async def test_activation__wrong_code_is_refused_and_the_account_stays_unactivated(
    identity: RunningIdentity,
) -> None:
    id_number, _ = _twins()
    student = await _student_with(identity, id_number)
    phone = _phone()
    ticket = (await _ask_code(identity, id_number, phone)).json()["ticket"]
    wrong = "000000" if _sent(identity, phone) != "000000" else "111111"
    response = await identity.client.post(
        "/api/v1/activation",
        json={
            "ticket": ticket,
            "code": wrong,
            "password": "a-good-password-1",
            "device_public_key": _device_key(),
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"
    async with identity.ctx.sessionmaker() as session:
        assert (
            await session.scalar(select(Account.status).where(Account.id == student.id))
        ) == "not_activated"


async def test_activation__one_phone_number_cannot_serve_two_students(identity: RunningIdentity) -> None:
    first_id, _ = _twins()
    second_id, _ = _twins()
    await _student_with(identity, first_id)
    await _student_with(identity, second_id)
    phone = _phone()
    ticket = (await _ask_code(identity, first_id, phone)).json()["ticket"]
    done = await identity.client.post(
        "/api/v1/activation",
        json={
            "ticket": ticket,
            "code": _sent(identity, phone),
            "password": "a-good-password-1",
            "device_public_key": _device_key(),
        },
    )
    assert done.status_code == 200, done.text
    response = await _ask_code(identity, second_id, phone)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "phone"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("id_number", {"name": "李四", "id_number": "410102200905011234", "phone": "13900000000"}),
        (
            "phone",
            {
                "name": "李四",
                "id_number": make_resident_id("410102", date(2009, 5, 1), 1),
                "phone": "12345678901",
            },
        ),
    ],
)
async def test_activation__bad_input_names_the_field(
    identity: RunningIdentity, field: str, body: dict[str, str]
) -> None:
    response = await identity.client.post("/api/v1/activation/code", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_activation__device_key_must_be_ed25519(identity: RunningIdentity) -> None:
    response = await identity.client.post(
        "/api/v1/activation",
        json={
            "ticket": "x" * 20,
            "code": "123456",
            "password": "pw-pw-pw-pw",
            "device_public_key": "bm90IGEga2V5",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "device_public_key"


async def _activated(identity: RunningIdentity) -> Account:
    id_number, _ = _twins()
    student = await _student_with(identity, id_number)
    phone = _phone()
    ticket = (await _ask_code(identity, id_number, phone)).json()["ticket"]
    done = await identity.client.post(
        "/api/v1/activation",
        json={
            "ticket": ticket,
            "code": _sent(identity, phone),
            "password": "a-good-password-1",
            "device_public_key": _device_key(),
        },
    )
    assert done.status_code == 200, done.text
    async with identity.ctx.sessionmaker() as session:
        account = await session.get(Account, student.id)
    assert account is not None
    return account


async def test_new_device__needs_a_fresh_code_and_a_face_match(identity: RunningIdentity) -> None:
    student = await _activated(identity)
    headers = identity.mint(as_student(student))
    await identity.client.put("/api/v1/me/face-consent", json={"decision": "granted"}, headers=headers)
    captured = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo("obama/obama_small.jpg")}, headers=headers
    )
    assert captured.status_code == 201, captured.text
    assert student.phone is not None

    async def attempt(photo: str) -> Any:
        ticket = (await identity.client.post("/api/v1/me/device/code", headers=headers)).json()["ticket"]
        return await identity.client.post(
            "/api/v1/me/device",
            data={
                "ticket": ticket,
                "code": _sent(identity, student.phone or ""),
                "device_public_key": _device_key(),
            },
            files={"photo": face_photo(photo)},
            headers=headers,
        )

    assert student.student_id is not None
    [first_key] = await _announced_keys(identity, student.student_id)
    someone_else = await attempt("biden/biden1.jpg")
    assert someone_else.status_code == 422
    assert someone_else.json()["errors"][0]["field"] == "photo"
    assert await _announced_keys(identity, student.student_id) == [first_key]  # refused: no new key
    me = await attempt("obama/obama-480p.jpg")
    assert me.status_code == 200, me.text
    async with identity.ctx.sessionmaker() as session:
        device = await session.get(DeviceKey, student.id)
    assert device is not None and device.replaced_count == 1
    new_key = base64.b64encode(device.public_key).decode()
    assert new_key != first_key
    assert await _announced_keys(identity, student.student_id) == [first_key, new_key]
