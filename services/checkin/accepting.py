"""Accepting a check-in (issue 5, item 3): the one request hundreds of thousands of students
send in the same hours, so it costs one Redis call and one short transaction.

Nothing is written until every check passes:

1. the payload parses, the selfie is a JPEG of the announced SHA-256, the round (cached a few
   seconds) is open and the province's opening hours have not ended — all without I/O;
2. in one transaction, one query fetches the student's facts — roster row, device key, leave,
   internship, the previous attempt, the device's other students in the round, whether the
   selfie was seen before, and the round attendance row locked ``FOR UPDATE`` — while the
   server nonce is taken out of Redis at the same time (single use, 10 minutes: a signed
   request captured once cannot be sent again);
3. the payload must be signed by the student's registered device key (Ed25519 over the exact
   bytes the app sent): a script that calls the API with invented coordinates has no key.
   The key comes from the same query, so a new phone's key works at once;
4. the rules decide, one statement writes the attempt, the attendance, the selfie's hash (and
   the selfie itself only when a face check needs it), and the events go to the outbox in the
   same commit.

Campus fences are cached per school for a minute (hot_cache.py): a redrawn campus applies in
every process within that time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.checkin.deciding import decided_event, selfie_url
from services.checkin.domain.cheating_signals import SHARED_DEVICE_WINDOW, Fix, signals_of
from services.checkin.domain.check_in_result import CheckInResult, Decision, decide, position_verdict
from services.checkin.domain.eligibility import Candidate, RoundScope, eligibility
from services.checkin.domain.face_policy import face_check_needed
from services.checkin.domain.gcj02 import to_wgs84
from services.checkin.domain.geofence import CampusFence
from services.checkin.domain.leave_request import GRANTED
from services.checkin.domain.opening_hours import within_opening_hours
from services.checkin.hot_cache import TtlCache
from services.checkin.models import CampusView, Round
from shared.auth import Principal, Role
from shared.bus.unit_of_work import Emission
from shared.china_time import CHINA
from shared.events import EventPayload
from shared.events.identity import FaceVerificationRequested
from shared.problems import FieldIssue, Problem, conflict, field_problem, forbidden, not_found
from shared.service import ServiceContext
from shared.telemetry import suppress_instrumentation

SELFIE_MAX_BYTES = 2 * 1024 * 1024  # a phone selfie at 640–1280 px is 50–400 KB
NONCE_TTL_SECONDS = 600
# A selfie waiting for its face result is kept at most this long even if no result ever comes
# (deciding.py shortens or extends it once the result is in).
SELFIE_KEPT_UNANSWERED = timedelta(days=7)
ROUND_CACHE_SECONDS = 5.0
FENCE_CACHE_SECONDS = 60.0
CACHES = "checkin_caches"


class CheckInPayload(BaseModel):
    """What the app signs. Fields a newer app adds are ignored (the signature covers them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    round_id: UUID
    nonce: str = Field(min_length=16, max_length=100)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float = Field(ge=0, le=100_000, allow_inf_nan=False)
    crs: Literal["WGS-84", "GCJ-02"]
    device_id: str = Field(min_length=1, max_length=100)
    emulator: StrictBool
    mock_location: StrictBool
    rooted: StrictBool
    selfie_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    captured_at: AwareDatetime


@dataclass(frozen=True)
class OpenRound:
    """What the accept path needs of a round, cached a few seconds."""

    id: UUID
    scope: RoundScope
    state: str
    starts_at: datetime
    ends_at: datetime
    face_policy: str
    face_sample_rate: float


@dataclass
class Caches:
    rounds: TtlCache[UUID, OpenRound]
    fences: TtlCache[str, CampusFence]


def caches(ctx: ServiceContext) -> Caches:
    found: Caches | None = ctx.extras.get(CACHES)
    if found is None:
        found = Caches(
            rounds=TtlCache(ROUND_CACHE_SECONDS),
            fences=TtlCache(FENCE_CACHE_SECONDS),
        )
        ctx.extras[CACHES] = found
    return found


@dataclass(frozen=True)
class Accepted:
    check_in_id: UUID
    state: str  # awaiting_face | decided
    decision: Decision | None


def _nonce_key(ctx: ServiceContext, nonce: str) -> str:
    return f"{ctx.settings.redis_prefix}checkin:nonce:{nonce}"


def student_of(principal: Principal) -> str:
    if principal.role is not Role.STUDENT or not principal.student_id:
        raise forbidden("only a student checks in, from the student's own app")
    return principal.student_id


async def load_round(ctx: ServiceContext, round_id: UUID) -> OpenRound:
    async def load() -> OpenRound | None:
        async with ctx.sessionmaker() as session:
            row = (await session.execute(select(Round.__table__).where(Round.id == round_id))).first()
        if row is None:
            return None
        return OpenRound(
            id=row.id,
            scope=RoundScope.of(row),
            state=row.state,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            face_policy=row.face_policy,
            face_sample_rate=row.face_sample_rate,
        )

    found = await caches(ctx).rounds.get(round_id, load)
    if found is None:
        raise not_found(f"round {round_id}")
    return found


def check_round_open(ctx: ServiceContext, round_: OpenRound, now: datetime) -> None:
    if round_.state == "closed" or not round_.starts_at <= now < round_.ends_at:
        raise conflict(
            f"round {round_.id} is not open: it runs from {round_.starts_at.isoformat()} "
            f"to {round_.ends_at.isoformat()}",
            slug="round-not-open",
        )
    opens, closes = ctx.settings.checkin_opens, ctx.settings.checkin_closes
    if not within_opening_hours(now, opens, closes):
        raise conflict(
            f"check-ins are accepted from {opens:%H:%M} to {closes:%H:%M} (China time)",
            slug="outside-opening-hours",
        )


async def issue_nonce(ctx: ServiceContext, principal: Principal, round_id: UUID) -> tuple[str, datetime]:
    """A single-use nonce for this student and round, valid ``NONCE_TTL_SECONDS``."""
    student_id = student_of(principal)
    now = datetime.now(UTC)
    check_round_open(ctx, await load_round(ctx, round_id), now)
    nonce = secrets.token_urlsafe(24)
    await ctx.redis.set(_nonce_key(ctx, nonce), f"{student_id}:{round_id}", ex=NONCE_TTL_SECONDS)
    return nonce, now + timedelta(seconds=NONCE_TTL_SECONDS)


def parse_payload(payload_text: str) -> CheckInPayload:
    try:
        return CheckInPayload.model_validate_json(payload_text)
    except ValidationError as exc:
        issues = [
            FieldIssue(
                field="payload." + ".".join(str(p) for p in err.get("loc", ()))
                if err.get("loc")
                else "payload",
                reason=str(err.get("msg", "invalid")),
                reason_zh="签到数据不是合法的 JSON" if err.get("type") == "json_invalid" else "取值不正确",
            )
            for err in exc.errors()
        ]
        raise Problem(
            422,
            "Validation failed",
            slug="validation",
            detail="; ".join(f"{i.field}: {i.reason}" for i in issues),
            errors=issues,
        ) from exc


def check_selfie(selfie: bytes, announced_sha256: str) -> None:
    if len(selfie) > SELFIE_MAX_BYTES:
        raise Problem(
            413,
            "Selfie too large",
            title_zh="自拍照片太大",
            slug="selfie-too-large",
            detail=f"selfie: {len(selfie)} bytes, at most {SELFIE_MAX_BYTES}",
            errors=[FieldIssue("selfie", f"at most {SELFIE_MAX_BYTES} bytes", "照片不能超过 2 MB")],
        )
    if not selfie.startswith(b"\xff\xd8\xff"):
        raise field_problem("selfie", "not a JPEG image", "自拍照片应为 JPEG 格式")
    if hashlib.sha256(selfie).hexdigest() != announced_sha256:
        raise field_problem(
            "payload.selfie_sha256", "does not match the uploaded selfie", "照片与签名数据不一致"
        )


def check_signature(device_key: bytes | None, payload_text: str, signature_b64: str) -> None:
    """The payload's exact bytes are signed by the student's registered device key."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise field_problem("signature", "not base64", "签名格式不正确") from exc
    if len(signature) != 64:
        raise field_problem("signature", "an Ed25519 signature is 64 bytes", "签名格式不正确")
    if device_key is None:
        raise Problem(
            403,
            "Device not registered",
            title_zh="设备未登记",
            slug="device-not-registered",
            detail="no device key is registered for this student: activate the app on this phone first",
        )
    try:
        Ed25519PublicKey.from_public_bytes(device_key).verify(signature, payload_text.encode())
    except (InvalidSignature, ValueError) as exc:
        raise Problem(
            403,
            "Bad signature",
            title_zh="签名无效",
            slug="bad-signature",
            detail="signature: does not verify with the student's registered device key",
            errors=[
                FieldIssue("signature", "does not verify with the registered device key", "签名校验失败")
            ],
        ) from exc


async def consume_nonce(ctx: ServiceContext, payload: CheckInPayload) -> bytes | None:
    """Take the nonce out of Redis (single use); returns whom it was issued to."""
    owner = await ctx.redis.getdel(_nonce_key(ctx, payload.nonce))
    return owner.encode() if isinstance(owner, str) else owner


def check_nonce(owner: bytes | None, student_id: str, payload: CheckInPayload) -> None:
    if owner != f"{student_id}:{payload.round_id}".encode():
        raise field_problem(
            "payload.nonce",
            "unknown, expired or already used: ask for a new challenge",
            "签到码无效、已过期或已使用，请重新获取",
        )


async def load_fence(ctx: ServiceContext, session: AsyncSession, school_code: str) -> CampusFence | None:
    async def load() -> CampusFence | None:
        rows = (
            await session.execute(
                select(CampusView.boundary, CampusView.crs).where(CampusView.school_code == school_code)
            )
        ).all()
        return CampusFence.of((row.boundary, row.crs) for row in rows) if rows else None

    return await caches(ctx).fences.get(school_code, load)


# The leave states that keep a student away, from the leave state machine (constants, not input).
_GRANTED_SQL = ", ".join(f"'{state.value}'" for state in sorted(GRANTED))
_FACTS = text(
    f"""
    SELECT s.school_code, s.status, s.study_form, s.grade,
           s.province_code, s.city_code, s.county_code,
           EXISTS (SELECT 1 FROM leave l
                   WHERE l.student_id = s.student_id AND l.state IN ({_GRANTED_SQL})
                     AND l.starts_on <= :today
                     AND LEAST(l.ends_on, COALESCE(l.ended_on, l.ends_on)) >= :today) AS on_leave,
           EXISTS (SELECT 1 FROM internship i
                   WHERE i.student_id = s.student_id
                     AND i.starts_on <= :today AND i.ends_on >= :today) AS on_internship,
           EXISTS (SELECT 1 FROM selfie_seen x WHERE x.sha256 = :sha256) AS selfie_seen,
           (SELECT count(DISTINCT c.student_id) FROM check_in c
             WHERE c.round_id = :round_id AND c.device_id = :device_id
               AND c.received_at >= :since AND c.student_id <> s.student_id) AS others_on_device,
           p.latitude AS prev_latitude, p.longitude AS prev_longitude, p.crs AS prev_crs,
           p.accuracy_m AS prev_accuracy_m, p.received_at AS prev_received_at,
           a.final AS final,
           k.public_key AS device_key
      FROM student_view s
      LEFT JOIN device_key_view k ON k.student_id = s.student_id
      LEFT JOIN LATERAL (SELECT latitude, longitude, crs, accuracy_m, received_at FROM check_in
                          WHERE student_id = s.student_id
                          ORDER BY received_at DESC LIMIT 1) p ON true
      LEFT JOIN LATERAL (SELECT final FROM round_attendance
                          WHERE round_id = :round_id AND student_id = s.student_id
                          FOR UPDATE) a ON true
     WHERE s.student_id = :student_id
    """
)

_RECORD = """
    WITH ci AS (
        INSERT INTO check_in (id, round_id, student_id, school_code, received_at, latitude, longitude,
                              accuracy_m, crs, device_id, emulator, mock_location, rooted, selfie_sha256,
                              geofence, position_result, shared_device, face_required, state, result,
                              reasons, decided_at)
        VALUES (:id, :round_id, :student_id, :school_code, :now, :latitude, :longitude,
                :accuracy_m, :crs, :device_id, :emulator, :mock_location, :rooted, :sha256,
                :geofence, :position_result, :shared_device, :face_required, :state, :result,
                CAST(:reasons AS jsonb), :decided_at)
    ), seen AS (
        INSERT INTO selfie_seen (sha256, first_check_in_id, student_id)
        VALUES (:sha256, :id, :student_id) ON CONFLICT DO NOTHING
    ), {selfie}att AS (
        INSERT INTO round_attendance (round_id, student_id, school_code, current_check_in_id, result, final,
                                      attempts, updated_at)
        VALUES (:round_id, :student_id, :school_code, :id, :result, :final, 1, :now)
        ON CONFLICT (round_id, student_id) DO UPDATE
           SET current_check_in_id = EXCLUDED.current_check_in_id, result = EXCLUDED.result,
               final = EXCLUDED.final, school_code = EXCLUDED.school_code,
               attempts = round_attendance.attempts + 1, updated_at = EXCLUDED.updated_at
         WHERE NOT round_attendance.final
        RETURNING attempts
    )
    SELECT attempts FROM att
"""
_SELFIE = """selfie AS (
        INSERT INTO selfie (check_in_id, content, expires_at) VALUES (:id, :content, :selfie_expires_at)
    ), """
_RECORD_DECIDED = text(_RECORD.format(selfie=""))
_RECORD_WITH_SELFIE = text(_RECORD.format(selfie=_SELFIE))


def _already_final(round_id: UUID) -> Problem:
    return conflict(
        f"a normal or internship result is already recorded for round {round_id}; it is final",
        slug="already-final",
    )


def _previous_fix(facts: Any) -> Fix | None:
    if facts.prev_received_at is None:
        return None
    lat, lon = to_wgs84(facts.prev_latitude, facts.prev_longitude, facts.prev_crs)
    return Fix(lat, lon, facts.prev_accuracy_m, facts.prev_received_at)


async def accept_check_in(
    ctx: ServiceContext,
    principal: Principal,
    payload_text: str,
    signature: str,
    selfie: bytes,
    *,
    now: datetime | None = None,
) -> Accepted:
    now = now or datetime.now(UTC)
    student_id = student_of(principal)
    payload = parse_payload(payload_text)
    check_selfie(selfie, payload.selfie_sha256)
    round_ = await load_round(ctx, payload.round_id)
    check_round_open(ctx, round_, now)
    # No span per statement (nor for the nonce's GETDEL) on this path: the request's own span
    # times it, and five more spans a request cost a tenth of the accept path's CPU.
    with suppress_instrumentation():
        return await _accept(ctx, round_, student_id, payload, payload_text, signature, selfie, now)


async def _accept(
    ctx: ServiceContext,
    round_: OpenRound,
    student_id: str,
    payload: CheckInPayload,
    payload_text: str,
    signature: str,
    selfie: bytes,
    now: datetime,
) -> Accepted:
    check_in_id = uuid7()  # time-ordered: new rows go to the right edge of the primary key
    today: date = now.astimezone(CHINA).date()
    async with ctx.uow() as uow:
        # Core statements on the transaction's connection: the ORM session's execute adds
        # its own bookkeeping per statement and this path has no ORM objects.
        connection = await uow.session.connection()
        # The student's facts and the nonce at the same time: two servers, one wait.
        found, nonce_owner = await asyncio.gather(
            connection.execute(
                _FACTS,
                {
                    "student_id": student_id,
                    "round_id": round_.id,
                    "device_id": payload.device_id,
                    "since": now - SHARED_DEVICE_WINDOW,
                    "sha256": payload.selfie_sha256,
                    "today": today,
                },
            ),
            consume_nonce(ctx, payload),
        )
        facts = found.first()
        check_signature(facts.device_key if facts else None, payload_text, signature)
        check_nonce(nonce_owner, student_id, payload)
        if facts is None:
            raise forbidden("this student is not on the check-in roster (not registered with enrollment)")
        verdict = eligibility(round_.scope, Candidate.of(facts), facts.on_leave)
        if not verdict.eligible:
            raise Problem(
                403,
                "Not eligible",
                title_zh=verdict.text,
                slug="not-eligible",
                detail=f"student is not called to round {round_.id}: {verdict.value}",
            )
        if facts.final:
            raise _already_final(round_.id)
        fence = await load_fence(ctx, uow.session, facts.school_code)
        if fence is None:
            raise conflict(
                f"school {facts.school_code} has no registered campus boundary yet; ask the school registrar",
                slug="campus-not-registered",
            )
        lat, lon = to_wgs84(payload.latitude, payload.longitude, payload.crs)
        placement = fence.place(lat, lon, payload.accuracy_m)
        position = position_verdict(placement, payload.accuracy_m, facts.on_internship)
        signals = signals_of(
            emulator=payload.emulator,
            mock_location=payload.mock_location,
            rooted=payload.rooted,
            selfie_seen_before=facts.selfie_seen,
            previous=_previous_fix(facts),
            current=Fix(lat, lon, payload.accuracy_m, now),
            other_students_on_device=facts.others_on_device,
        )
        face_needed = face_check_needed(
            round_.face_policy, round_.face_sample_rate, check_in_id, suspicious=signals.suspicious
        )
        decision = None if face_needed else decide(position, signals, None)
        # Until the face answers, ``reasons`` holds what is known: the signs, then the
        # position's notes (deciding.py splits them again).
        reasons = decision.reasons if decision else (*signals.cheating, *position.reasons)
        result: CheckInResult | None = decision.result if decision else None
        values: dict[str, Any] = {
            "id": check_in_id,
            "round_id": round_.id,
            "student_id": student_id,
            "school_code": facts.school_code,
            "now": now,
            "latitude": payload.latitude,
            "longitude": payload.longitude,
            "accuracy_m": payload.accuracy_m,
            "crs": payload.crs,
            "device_id": payload.device_id,
            "emulator": payload.emulator,
            "mock_location": payload.mock_location,
            "rooted": payload.rooted,
            "sha256": payload.selfie_sha256,
            "geofence": placement.where.value,
            "position_result": position.result.value,
            "shared_device": signals.shared_device,
            "face_required": face_needed,
            "state": "awaiting_face" if face_needed else "decided",
            "result": result.value if result else None,
            "reasons": json.dumps([r.value for r in reasons]),
            "decided_at": None if face_needed else now,
            "final": bool(decision and decision.final),
        }
        if face_needed:
            values["content"] = selfie
            values["selfie_expires_at"] = now + SELFIE_KEPT_UNANSWERED
        recorded = await connection.execute(_RECORD_WITH_SELFIE if face_needed else _RECORD_DECIDED, values)
        if recorded.first() is None:
            raise _already_final(round_.id)  # a final attempt committed while we waited for the lock
        event: EventPayload = (
            FaceVerificationRequested(
                check_in_id=str(check_in_id),
                student_id=student_id,
                selfie_url=selfie_url(ctx, check_in_id),
                selfie_sha256=payload.selfie_sha256,
            )
            if decision is None
            else decided_event(
                check_in_id, round_.id, student_id, facts.school_code, decision, now, counts=True
            )
        )
        # Written now as a plain INSERT: ``emit`` would add an ORM object for the flush at commit.
        await uow.emit_many([Emission(event, subject=student_id)])
        await uow.commit()
    return Accepted(check_in_id, values["state"], decision)
