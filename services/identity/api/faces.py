"""Face consent, capture (the accepted photo becomes the ID photo), in-person verification for
students who decline, the admins' direct verification, and the internal ID-photo endpoint."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, UploadFile
from fastapi.responses import Response
from opentelemetry import trace
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from services.identity.api.common import TEMPLATE_KEYS, OwnPrincipal
from services.identity.audit import AuditKind, record
from services.identity.domain.face_consent import ConsentDecision, may_capture_face, may_verify_in_person
from services.identity.domain.face_quality import REFUSAL_TEXT
from services.identity.faces.checking import (
    MAX_PHOTO_BYTES,
    FaceResult,
    judge_photo,
    possible_proxy_of,
    verify_face,
)
from services.identity.faces.templates import TemplateKeys
from services.identity.models import Account, FaceConsent, FaceTemplate, IdPhoto, account_org_columns
from shared.auth import BUREAU_ROLES, Principal, Role, require_role, require_service_token
from shared.events.identity import FaceCaptured
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, conflict, field_problem, not_found
from shared.service import Context, ServiceContext
from shared.telemetry import ATTR_FACE_OUTCOME, ATTR_STUDENT_ID

tracer = trace.get_tracer("xueji.identity")
router = APIRouter(tags=["faces"])
CONSENT_TEXT_VERSION = "2026-11"
MEDIA_TYPES = {"image/jpeg", "image/png"}


def template_keys(ctx: ServiceContext) -> TemplateKeys:
    keys: TemplateKeys | None = ctx.extras.get(TEMPLATE_KEYS)
    if keys is None:
        raise Problem(
            503,
            "Face processing is not configured",
            title_zh="人脸功能未配置",
            slug="face-keys-missing",
            detail="identity has no face template key (XUEJI_FACE_KEY_FILE) / 缺少人脸模板密钥",
        )
    return keys


async def read_photo(photo: UploadFile) -> bytes:
    if photo.content_type not in MEDIA_TYPES:
        raise field_problem("photo", "send a JPEG or PNG image", "请上传 JPEG 或 PNG 图片", status=415)
    data = await photo.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise field_problem(
            "photo", f"larger than {MAX_PHOTO_BYTES // 1024 // 1024} MB", "图片过大", status=413
        )
    if not data:
        raise field_problem("photo", "empty file", "文件为空")
    return data


async def _student_account(ctx: ServiceContext, principal: Principal) -> Account:
    require_role(principal, Role.STUDENT)
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.student_id == principal.student_id))
    if account is None:
        raise not_found("your student account")
    return account


class ConsentBody(BaseModel):
    decision: ConsentDecision
    consent_text_version: str = Field(
        CONSENT_TEXT_VERSION,
        max_length=20,
        description="the version of the consent text the student was shown",
    )


class ConsentView(BaseModel):
    decision: ConsentDecision
    decided_at: datetime
    verified_in_person: bool


@router.put(
    "/api/v1/me/face-consent",
    summary="The student's separate consent to face processing",
    response_model=ConsentView,
)
async def decide_consent(body: ConsentBody, principal: OwnPrincipal, ctx: Context) -> ConsentView:
    account = await _student_account(ctx, principal)
    async with ctx.uow() as uow:
        consent = await uow.session.get(FaceConsent, account.id, with_for_update=True)
        if consent is None:
            consent = FaceConsent(account_id=account.id)
            uow.session.add(consent)
        consent.decision = body.decision.value
        consent.decided_at = datetime.now(UTC)
        consent.consent_text_version = body.consent_text_version
        if body.decision is ConsentDecision.DECLINED:
            # Withdrawing consent ends processing: the template goes (PIPL art. 47).
            template = await uow.session.get(FaceTemplate, account.id)
            if template is not None:
                await uow.session.delete(template)
                record(uow.session, AuditKind.TEMPLATE_DELETED, "consent_withdrawn", account_id=account.id)
        record(uow.session, AuditKind.FACE_CONSENT, body.decision.value, account_id=account.id)
        await uow.commit()
        return ConsentView(
            decision=body.decision,
            decided_at=consent.decided_at,
            verified_in_person=consent.verified_in_person_at is not None,
        )


class CaptureView(BaseModel):
    student_id: str
    photo_version: int
    content_hash: str
    possible_proxy: bool


def _refused(field: str, result: FaceResult) -> Problem:
    return field_problem(field, result.reason or "unusable photo", result.reason_zh or "照片不可用")


@router.post(
    "/api/v1/me/face",
    summary="Capture the student's face; the photo becomes the ID photo",
    response_model=CaptureView,
    status_code=201,
)
async def capture_face(
    photo: Annotated[UploadFile, File(description="JPEG or PNG, one face")],
    principal: OwnPrincipal,
    ctx: Context,
) -> CaptureView:
    account = await _student_account(ctx, principal)
    assert account.student_id is not None and account.school_code is not None
    data = await read_photo(photo)
    async with ctx.sessionmaker() as session:
        consent = await session.get(FaceConsent, account.id)
    if not may_capture_face(ConsentDecision(consent.decision) if consent else None):
        raise conflict(
            "face capture needs your separate consent first (PUT /api/v1/me/face-consent) "
            "/ 采集人脸前须单独同意人脸信息处理",
            slug="face-consent-required",
        )
    with tracer.start_as_current_span("identity.face_capture") as span:
        span.set_attribute(ATTR_STUDENT_ID, account.student_id)
        verdict = await judge_photo(data)
        if verdict.descriptor is None:
            if verdict.unreadable:
                raise field_problem("photo", "not a readable image", "无法读取的图片")
            assert verdict.refusal is not None
            en, zh = REFUSAL_TEXT[verdict.refusal]
            span.set_attribute(ATTR_FACE_OUTCOME, verdict.refusal.value)
            async with ctx.uow() as uow:
                record(uow.session, AuditKind.FACE_CAPTURE, verdict.refusal.value, account_id=account.id)
                await uow.commit()
            raise field_problem("photo", f"{verdict.refusal.value}: {en}", zh)
        keys = template_keys(ctx)
        sealed = keys.seal(verdict.descriptor, account.student_id)
        content_hash = hashlib.sha256(data).hexdigest()
        async with ctx.uow() as uow:
            proxy_of = await possible_proxy_of(
                uow.session, keys, account.student_id, account.school_code, verdict.descriptor
            )
            version = 1 + (
                await uow.session.scalar(
                    select(func.coalesce(func.max(IdPhoto.version), 0)).where(
                        IdPhoto.student_id == account.student_id
                    )
                )
                or 0
            )
            uow.session.add(
                IdPhoto(
                    student_id=account.student_id,
                    version=version,
                    content=data,
                    content_hash=content_hash,
                    media_type=photo.content_type or "image/jpeg",
                )
            )
            template = await uow.session.get(FaceTemplate, account.id, with_for_update=True)
            if template is None:  # re-capture replaces the one template
                template = FaceTemplate(account_id=account.id, student_id=account.student_id)
                uow.session.add(template)
            template.school_code = account.school_code
            template.key_id = sealed.key_id
            template.sealed = sealed.blob
            template.photo_version = version
            template.possible_proxy_of = proxy_of
            template.captured_at = datetime.now(UTC)
            uow.emit(
                FaceCaptured(
                    student_id=account.student_id,
                    school_code=account.school_code,
                    photo_version=version,
                    content_hash=content_hash,
                    possible_proxy=proxy_of is not None,
                ),
                subject=account.student_id,
            )
            record(
                uow.session,
                AuditKind.FACE_CAPTURE,
                "captured",
                account_id=account.id,
                photo_version=version,
                possible_proxy_of=proxy_of,
            )
            await uow.commit()
        span.set_attribute(ATTR_FACE_OUTCOME, "captured")
    return CaptureView(
        student_id=account.student_id,
        photo_version=version,
        content_hash=content_hash,
        possible_proxy=proxy_of is not None,
    )


@router.post(
    "/api/v1/students/{student_id}/in-person-verification",
    status_code=204,
    summary="Record that the counselor verified a student who declined face processing",
)
async def verify_in_person(student_id: str, principal: OwnPrincipal, ctx: Context) -> None:
    require_role(principal, Role.COUNSELOR, Role.SCHOOL_REGISTRAR)
    async with ctx.uow() as uow:
        account = await uow.session.scalar(
            select(Account).where(
                Account.student_id == student_id, jurisdiction_filter(principal, account_org_columns())
            )
        )
        if account is None:
            raise not_found(f"student {student_id}")
        consent = await uow.session.get(FaceConsent, account.id, with_for_update=True)
        if consent is None or not may_verify_in_person(ConsentDecision(consent.decision)):
            raise conflict(
                "in-person verification is for students who declined face processing "
                "/ 仅适用于不同意人脸识别的学生",
                slug="face-consent-not-declined",
            )
        consent.verified_in_person_by = principal.account_id
        consent.verified_in_person_at = datetime.now(UTC)
        record(
            uow.session,
            AuditKind.FACE_VERIFICATION,
            "verified_in_person",
            account_id=account.id,
            actor_id=principal.account_id,
        )
        await uow.commit()


class FaceCheckView(BaseModel):
    student_id: str
    outcome: Literal["match", "no_match", "no_face", "several_faces", "poor_image", "no_template"]
    reason: str | None
    reason_zh: str | None
    distance: float | None


@router.post(
    "/api/v1/faces/verify",
    summary="Verify a photo against a student's template (admins)",
    response_model=FaceCheckView,
)
async def verify_directly(
    student_id: Annotated[str, Form(min_length=1, max_length=40)],
    photo: Annotated[UploadFile, File()],
    principal: OwnPrincipal,
    ctx: Context,
) -> FaceCheckView:
    require_role(principal, *BUREAU_ROLES, Role.SCHOOL_REGISTRAR)
    data = await read_photo(photo)
    async with ctx.sessionmaker() as session:
        account = await session.scalar(
            select(Account).where(
                Account.student_id == student_id, jurisdiction_filter(principal, account_org_columns())
            )
        )
        if account is None:
            raise not_found(f"student {student_id}")
        result = await verify_face(session, template_keys(ctx), student_id, data)
    async with ctx.uow() as uow:
        record(
            uow.session,
            AuditKind.FACE_VERIFICATION,
            result.outcome.value,
            account_id=account.id,
            actor_id=principal.account_id,
            distance=result.distance,
            via="api",
        )
        await uow.commit()
    return FaceCheckView(
        student_id=student_id,
        outcome=result.outcome.value,
        reason=result.reason,
        reason_zh=result.reason_zh,
        distance=result.distance,
    )


@router.get(
    "/internal/v1/students/{student_id}/photo",
    summary="The student's ID photo (services only)",
    response_class=Response,
)
async def id_photo(
    student_id: str, ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Response:
    require_service_token(ctx.settings.service_token, authorization)
    async with ctx.sessionmaker() as session:
        photo = await session.scalar(
            select(IdPhoto).where(IdPhoto.student_id == student_id).order_by(IdPhoto.version.desc()).limit(1)
        )
    if photo is None:
        raise not_found(f"ID photo of student {student_id}")
    return Response(
        photo.content,
        media_type=photo.media_type,
        headers={
            "ETag": f'"{photo.content_hash}"',
            "X-Photo-Version": str(photo.version),
            "Cache-Control": "private",
        },
    )
