"""The auth contracts of issue 2 point 7, and forged events at the province border."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import Principal, Role, TokenIssuer, public_jwk
from shared.bus.consumer import DEAD_REASON_HEADER
from shared.bus.topology import INTERPROVINCE_IN
from shared.events import EventEnvelope
from shared.events.transfer import CaseOpened
from shared.signing import Signer, load_private_key
from shared.testing import AMQP_SERVER
from tests.e2e.conftest import RunningProvinces


def _student_url(provinces: RunningProvinces, province: str) -> str:
    student_id = provinces.report["student_id"]
    return f"{provinces.deployment.base_url(province, 'enrollment')}/api/v1/students/{student_id}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_get_student__without_token_is_401(provinces: RunningProvinces) -> None:
    response = httpx.get(_student_url(provinces, "41"))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_get_student__jurisdiction(provinces: RunningProvinces) -> None:
    scenario = provinces.scenario
    url = _student_url(provinces, "41")
    for role in ("school_registrar", "county", "city", "province"):
        assert httpx.get(url, headers=_bearer(scenario.token("41", role))).status_code == 200, role
    # The counselor has no students assigned; the origin school no longer holds the student in 41.
    assert httpx.get(url, headers=_bearer(scenario.token("41", "counselor"))).status_code in (403, 404)
    body = httpx.get(url, headers=_bearer(scenario.token("41", "school_registrar"))).json()
    assert "*" in body["id_number_masked"]
    assert "id_number" not in body or body["id_number"] is None or "*" in str(body["id_number"])


def test_get_student__another_provinces_token_is_401(provinces: RunningProvinces) -> None:
    token_37 = provinces.scenario.token("37", "province")
    response = httpx.get(_student_url(provinces, "41"), headers=_bearer(token_37))
    assert response.status_code == 401


def test_get_student__token_from_unknown_key_is_401(provinces: RunningProvinces) -> None:
    forger = TokenIssuer(province="41", keys={"41-forged": Ed25519PrivateKey.generate()}, current="41-forged")
    token = forger.issue(Principal("x", "41-province", Role.PROVINCE, "41", "41"))
    assert httpx.get(_student_url(provinces, "41"), headers=_bearer(token)).status_code == 401


def test_get_student__expired_token_is_401(provinces: RunningProvinces) -> None:
    key = load_private_key(provinces.deployment.keys_dir("41") / "jwt.pem")
    jwks = httpx.get(f"{provinces.deployment.base_url('41', 'identity')}/.well-known/jwks.json").json()
    mine = public_jwk(key, "?")["x"]
    kid = next(k["kid"] for k in jwks["keys"] if k["x"] == mine)
    issuer = TokenIssuer(province="41", keys={kid: key}, current=kid, lifetime=timedelta(minutes=5))
    principal = Principal("x", "41-province", Role.PROVINCE, "41", "41")
    fresh = issuer.issue(principal)
    expired = issuer.issue(principal, now=datetime.now(UTC) - timedelta(hours=1))
    assert (
        httpx.get(_student_url(provinces, "41"), headers=_bearer(fresh)).status_code == 200
    )  # the key is right
    assert httpx.get(_student_url(provinces, "41"), headers=_bearer(expired)).status_code == 401


async def _publish_and_read_dlq(
    vhost: str, messages: list[aio_pika.Message], routing_key: str, *, expect: int | None = None
) -> list[str]:
    """Publish to the province's border exchange; collect the dead-letter reasons that follow."""
    expected = len(messages) if expect is None else expect
    connection = await aio_pika.connect(f"{AMQP_SERVER}/{vhost}")
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(INTERPROVINCE_IN)
        for message in messages:
            await exchange.publish(message, routing_key=routing_key)
        dlq = await channel.get_queue("transfer.interprovince.dlq")  # transfer opens partners' cases
        reasons: list[str] = []
        deadline = time.monotonic() + (20 if expected else 3)
        while len(reasons) < max(expected, 1) and time.monotonic() < deadline:
            incoming = await dlq.get(fail=False)
            if incoming is None:
                await asyncio.sleep(0.2)
                continue
            reasons.append(str((incoming.headers or {}).get(DEAD_REASON_HEADER)))
            await incoming.ack()
        return reasons


def _message(body: bytes, event_type: str, headers: dict[str, str]) -> aio_pika.Message:
    return aio_pika.Message(body, type=event_type, headers=dict[str, Any](headers))


def _case_opened(transfer_id: str) -> CaseOpened:
    applicant = {"username": "x", "role": "school_registrar", "org": "4141010001", "province": "41"}
    return CaseOpened.model_validate(
        {
            "transfer_id": transfer_id,
            "kind": "cross_province",
            "chain": ["dest_school", "dest_county", "origin_school", "origin_county"],
            "student_number": "G000",
            "student_name": "伪造",
            "origin_province": "37",
            "destination": {"province": "41", "city": "4101", "county": "410102", "school": "4141010001"},
            "destination_school_name": "x",
            "destination_class_id": None,
            "grade": 2024,
            "reason": "forged",
            "applicant": applicant,
            "applied_at": "2026-11-27T00:00:00+00:00",
            "apply_line": {
                "step_id": f"{transfer_id}/apply",
                "action": "apply",
                "state_after": "UNDER_REVIEW",
                "pending_level_after": "dest_school",
                "actor": applicant,
                "at": "2026-11-27T00:00:00+00:00",
            },
        }
    )


def test_forged_interprovince_events__dead_lettered_with_reason(provinces: RunningProvinces) -> None:
    payload = _case_opened("00000000-0000-7000-8000-000000000001")
    body = EventEnvelope.wrap(payload, source="transfer", province="41").to_bytes()
    real_kid = (provinces.deployment.keys_dir("41") / "signing.kid").read_text().strip()
    impostor = Signer("41", real_kid, Ed25519PrivateKey.generate())  # claims 41's key id, wrong key
    unknown = Signer("41", "41-unknown", Ed25519PrivateKey.generate())
    messages = [
        _message(body, payload.event_type, {}),
        _message(body, payload.event_type, unknown.headers_for("37", body)),
        _message(body, payload.event_type, impostor.headers_for("37", body)),
    ]
    reasons = asyncio.run(
        _publish_and_read_dlq(provinces.deployment.vhost("37"), messages, f"37.{payload.event_type}")
    )
    assert len(reasons) == 3, reasons
    assert "unsigned" in reasons[0]
    assert "unknown signing key" in reasons[1]
    assert "bad signature" in reasons[2]


def _applied_count(provinces: RunningProvinces, event_type: str) -> float:
    text = httpx.get(f"{provinces.deployment.base_url('37', 'transfer')}/metrics").text
    for line in text.splitlines():
        if (
            line.startswith("xueji_events_consumed_total{")
            and 'consumer="transfer.interprovince"' in line
            and f'event_type="{event_type}"' in line
            and 'outcome="applied"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_forged_interprovince_events__border_keeps_working(provinces: RunningProvinces) -> None:
    """After the forgeries, a genuinely signed event from 41 is still applied in 37."""
    payload = _case_opened("00000000-0000-7000-8000-000000000002")
    before = _applied_count(provinces, payload.event_type)
    body = EventEnvelope.wrap(payload, source="transfer", province="41").to_bytes()
    keys = provinces.deployment.keys_dir("41")
    genuine = Signer("41", (keys / "signing.kid").read_text().strip(), load_private_key(keys / "signing.pem"))
    message = _message(body, payload.event_type, genuine.headers_for("37", body))
    reasons = asyncio.run(
        _publish_and_read_dlq(
            provinces.deployment.vhost("37"), [message], f"37.{payload.event_type}", expect=0
        )
    )
    assert reasons == []
    deadline = time.monotonic() + 20
    while _applied_count(provinces, payload.event_type) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _applied_count(provinces, payload.event_type) == before + 1


@pytest.mark.parametrize("service", ["identity", "enrollment", "checkin", "transfer", "certificates"])
def test_every_service__health_ready_metrics_docs(provinces: RunningProvinces, service: str) -> None:
    base = provinces.deployment.base_url("41", service)
    assert httpx.get(f"{base}/healthz").status_code == 200
    assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    assert "xueji_events" in httpx.get(f"{base}/metrics").text or service == "identity"
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"].startswith("XueJi")
