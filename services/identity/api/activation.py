"""Real-name activation (issue 4, item 2): name + ID number + phone → a code sent to the phone →
password and device key. And moving to a new phone: a fresh code and a face match."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.identity import sessions
from services.identity.api.common import ID_DIGEST_KEY, NOTIFIER, OwnPrincipal, client_address
from services.identity.api.faces import read_photo, template_keys
from services.identity.audit import AuditKind, record
from services.identity.domain.account_state import AccountState, Activated, transition
from services.identity.domain.activation import (
    ClaimedIdentity,
    RecordIdentity,
    claim_matches_record,
    is_mobile_number,
    phone_is_free_for,
)
from services.identity.domain.face_match import FaceOutcome
from services.identity.domain.one_time_password import phone_code
from services.identity.domain.password_policy import password_weakness
from services.identity.faces.checking import verify_face
from services.identity.id_digest import resident_id_digest
from services.identity.models import Account, DeviceKey
from services.identity.notify import Sender
from services.identity.passwords import hash_password
from services.identity.phone_codes import Challenge, PhoneCodes
from services.identity.throttle import LoginThrottle
from shared.auth import Role, require_role
from shared.events.identity import DeviceRegistered, StudentActivated
from shared.idnumber import InvalidIdNumber, mask_id_number, parse_resident_id
from shared.problems import Problem, conflict, field_problem
from shared.service import Context, ServiceContext

router = APIRouter(tags=["activation"])


class ActivationStart(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=15, max_length=20)
    phone: str = Field(min_length=11, max_length=11)


class CodeSent(BaseModel):
    ticket: str
    expires_in: int


def _no_such_record() -> Problem:
    # One answer whether the name, the number or the digest differs: no probing of records.
    return field_problem(
        "id_number",
        "no record awaiting activation matches this name and ID number",
        "未找到与姓名和身份证号相符的待激活学籍",
        status=404,
    )


def _codes(ctx: ServiceContext) -> PhoneCodes:
    return PhoneCodes(ctx.redis, ctx.settings.redis_prefix)


async def _send(ctx: ServiceContext, challenge: Challenge) -> CodeSent:
    code = phone_code()
    ticket = await _codes(ctx).open(challenge, code)
    sender: Sender = ctx.extras[NOTIFIER]
    await sender.send_code(challenge.phone, code)
    return CodeSent(ticket=ticket, expires_in=600)


@router.post("/api/v1/activation/code", summary="Real-name check; sends a code to the phone", status_code=202)
async def start_activation(body: ActivationStart, ctx: Context, request: Request) -> CodeSent:
    # Guessing names and ID numbers is throttled like guessing passwords (per address).
    throttle = LoginThrottle(ctx.redis, ctx.settings)
    address = client_address(request)
    if await throttle.locked_for(f"activation:{body.phone}", address) is not None:
        raise Problem(429, "Too many attempts", title_zh="尝试次数过多", slug="activation-locked")
    try:
        resident = parse_resident_id(body.id_number)
    except InvalidIdNumber as exc:
        raise field_problem("id_number", exc.message_en, exc.message_zh) from exc
    if not is_mobile_number(body.phone):
        raise field_problem(
            "phone", "not a mainland mobile number (11 digits, 1[3-9]…)", "手机号码格式不正确"
        )
    key: bytes | None = ctx.extras.get(ID_DIGEST_KEY)
    claim = ClaimedIdentity(
        name=body.name,
        id_number_masked=mask_id_number(resident.number),
        id_number_digest=resident_id_digest(key, resident.number) if key else None,
    )
    async with ctx.sessionmaker() as session:
        candidates = (
            await session.scalars(
                select(Account).where(
                    Account.role == Role.STUDENT.value,
                    Account.status == AccountState.NOT_ACTIVATED.value,
                    Account.id_number_masked == claim.id_number_masked,
                )
            )
        ).all()
        owner = await session.scalar(select(Account.id).where(Account.phone == body.phone))
    matches = [
        a
        for a in candidates
        if claim_matches_record(
            RecordIdentity(a.display_name, a.id_number_masked or "", a.id_number_digest), claim
        )
    ]
    if len(matches) != 1:
        # Two records with the same name and masked number and no digest to tell them apart:
        # refuse rather than let one student activate the other's record.
        await throttle.failed(f"activation:{body.phone}", address)
        raise _no_such_record()
    account = matches[0]
    if not phone_is_free_for(str(owner) if owner else None, str(account.id)):
        raise field_problem(
            "phone", "already used by another student's account", "该手机号已被其他学生使用", status=409
        )
    return await _send(ctx, Challenge(str(account.id), body.phone, "activation"))


class ActivationFinish(BaseModel):
    ticket: str = Field(min_length=10, max_length=100)
    code: str = Field(pattern=r"^[0-9]{6}$")
    password: str = Field(min_length=1, max_length=256)
    device_public_key: str = Field(description="the app's Ed25519 public key, raw 32 bytes in base64")


def _device_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise field_problem(
            "device_public_key", "not an Ed25519 public key (32 bytes, base64)", "不是有效的 Ed25519 公钥"
        ) from exc
    return raw


def _device_registered(student_id: str, school_code: str, device: bytes, at: datetime) -> DeviceRegistered:
    """Checkin verifies every check-in's signature with the live key (issue 5): it learns the key
    from this event, in the same commit as the key itself."""
    return DeviceRegistered(
        student_id=student_id,
        school_code=school_code,
        public_key=base64.b64encode(device).decode(),
        registered_at=at,
    )


def _bad_code() -> Problem:
    return field_problem("code", "wrong or expired code", "验证码错误或已过期")


class Activation(BaseModel):
    student_id: str
    username: str


@router.post("/api/v1/activation", summary="Finish activation: code, password, device key")
async def finish_activation(body: ActivationFinish, ctx: Context) -> Activation:
    device = _device_key(body.device_public_key)
    challenge = await _codes(ctx).redeem(body.ticket, body.code, "activation")
    if challenge is None:
        raise _bad_code()
    async with ctx.sessionmaker() as session:
        account = await session.get(Account, UUID(challenge.account_id))
    assert account is not None and account.student_id is not None and account.school_code is not None
    weakness = password_weakness(body.password, username=account.username)
    if weakness is not None:
        raise field_problem("password", *weakness)
    password_hash = await hash_password(body.password)
    async with ctx.uow() as uow:
        locked = await uow.session.get(Account, account.id, with_for_update=True)
        assert locked is not None
        if AccountState(locked.status) is not AccountState.NOT_ACTIVATED:
            raise conflict("the account is already activated or closed / 帐户已激活或已注销")
        locked.status = transition(AccountState(locked.status), Activated()).value
        locked.password_hash = password_hash
        locked.phone = challenge.phone
        now = datetime.now(UTC)
        uow.session.add(DeviceKey(account_id=locked.id, public_key=device, registered_at=now))
        uow.emit(
            StudentActivated(student_id=account.student_id, school_code=account.school_code),
            subject=account.student_id,
        )
        uow.emit(
            _device_registered(account.student_id, account.school_code, device, now),
            subject=account.student_id,
        )
        record(uow.session, AuditKind.ACTIVATION, "activated", account_id=locked.id)
        try:
            await uow.commit()
        except IntegrityError as exc:  # the phone was taken meanwhile
            raise field_problem(
                "phone", "already used by another student's account", "该手机号已被其他学生使用", status=409
            ) from exc
    return Activation(student_id=account.student_id, username=account.username)


@router.post(
    "/api/v1/me/device/code", summary="Moving to a new phone: send a code to the phone", status_code=202
)
async def new_device_code(principal: OwnPrincipal, ctx: Context) -> CodeSent:
    require_role(principal, Role.STUDENT)
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.student_id == principal.student_id))
    if account is None or account.phone is None:
        raise conflict("activate the account first / 请先激活帐户")
    return await _send(ctx, Challenge(str(account.id), account.phone, "new_device"))


@router.post("/api/v1/me/device", summary="Moving to a new phone: code + face match → new device key")
async def replace_device(
    principal: OwnPrincipal,
    ctx: Context,
    ticket: Annotated[str, Form(min_length=10, max_length=100)],
    code: Annotated[str, Form(pattern=r"^[0-9]{6}$")],
    device_public_key: Annotated[str, Form(max_length=100)],
    photo: Annotated[UploadFile, File(description="a selfie taken now")],
) -> dict[str, bool]:
    require_role(principal, Role.STUDENT)
    device = _device_key(device_public_key)
    data = await read_photo(photo)
    challenge = await _codes(ctx).redeem(ticket, code, "new_device")
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.student_id == principal.student_id))
        if challenge is None or account is None or challenge.account_id != str(account.id):
            raise _bad_code()
        assert account.student_id is not None
        result = await verify_face(session, template_keys(ctx), account.student_id, data)
    if result.outcome is not FaceOutcome.MATCH:
        raise field_problem(
            "photo", result.reason or "the face does not match", result.reason_zh or "人脸不匹配"
        )
    assert account.school_code is not None
    async with ctx.uow() as uow:
        now = datetime.now(UTC)
        row = await uow.session.get(DeviceKey, account.id, with_for_update=True)
        if row is None:
            uow.session.add(DeviceKey(account_id=account.id, public_key=device, registered_at=now))
        else:
            row.public_key = device
            row.registered_at = now
            row.replaced_count += 1
        uow.emit(
            _device_registered(account.student_id, account.school_code, device, now),
            subject=account.student_id,
        )
        # The old phone's sessions end with the old key.
        await sessions.revoke_sessions(uow.session, account_id=account.id)
        record(
            uow.session,
            AuditKind.ACTIVATION,
            "device_replaced",
            account_id=account.id,
            distance=result.distance,
        )
        await uow.commit()
    return {"replaced": True}
