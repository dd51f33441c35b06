"""Check-ins (issue 5, item 3): the phone asks for a nonce, signs its position, device signals
and the selfie's hash with its device key, and sends them with the selfie; the answer is 202
with the attempt's id — decided at once, or once identity has compared the face.

The accept path is in accepting.py, the late decision in deciding.py. Identity's face workers
fetch a selfie from the internal endpoint here with the province's service token (ADR 0006).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Header, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.checkin.accepting import SELFIE_MAX_BYTES, accept_check_in, issue_nonce
from services.checkin.api.common import PROBLEM
from services.checkin.domain.check_in_result import CheckInResult
from services.checkin.domain.reasons import reason_texts
from services.checkin.models import CheckIn, CounselorView, RoundAttendance, Selfie, StudentView
from shared.auth import CurrentPrincipal, require_service_token
from shared.jurisdiction import OrgColumns, jurisdiction_filter
from shared.problems import not_found
from shared.service import Context

router = APIRouter(tags=["check_ins"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {
        "description": "Not a student; no device key registered; bad signature; not called to this round",
        **PROBLEM,
    },
    404: {"description": "No such round", **PROBLEM},
    409: {
        "description": "Round not open, outside opening hours, a final result already recorded, "
        "or no campus boundary registered",
        **PROBLEM,
    },
    413: {"description": "Selfie larger than 2 MB", **PROBLEM},
    422: {"description": "A field is invalid (payload.*, signature, selfie); the body names it", **PROBLEM},
}


class Challenge(BaseModel):
    nonce: str = Field(description="sign it into the check-in payload; single use")
    expires_at: datetime


class AcceptedCheckIn(BaseModel):
    check_in_id: UUID
    state: str = Field(description="awaiting_face | decided")
    result: CheckInResult | None = Field(description="set when decided at once")
    result_zh: str | None = None
    reasons: list[str]
    reasons_zh: list[str]


class CheckInView(BaseModel):
    check_in_id: UUID
    round_id: UUID
    student_id: str
    state: str
    result: CheckInResult | None
    result_zh: str | None
    reasons: list[str]
    reasons_zh: list[str]
    final: bool = Field(description="this attempt's result stands for the round (normal or internship)")
    received_at: datetime
    decided_at: datetime | None


@router.post(
    "/api/v1/rounds/{round_id}/challenge",
    summary="A single-use nonce for the student's next check-in to this round (10 minutes)",
    response_model=Challenge,
    responses=_REFUSALS,
)
async def challenge(round_id: UUID, principal: CurrentPrincipal, ctx: Context) -> Challenge:
    nonce, expires_at = await issue_nonce(ctx, principal, round_id)
    return Challenge(nonce=nonce, expires_at=expires_at)


@router.post(
    "/api/v1/check-ins",
    summary="Check in: signed payload, signature and selfie (multipart/form-data)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedCheckIn,
    responses=_REFUSALS,
)
async def check_in(
    principal: CurrentPrincipal,
    ctx: Context,
    payload: Annotated[
        str,
        Form(
            max_length=4000,
            description="JSON: round_id, nonce, latitude, longitude, accuracy_m, crs (WGS-84 | GCJ-02), "
            "device_id, emulator, mock_location, rooted, selfie_sha256, captured_at",
        ),
    ],
    signature: Annotated[
        str, Form(max_length=200, description="base64 Ed25519 signature of the payload's UTF-8 bytes")
    ],
    selfie: Annotated[UploadFile, File(description="JPEG, at most 2 MB")],
) -> JSONResponse:
    photo = await selfie.read(SELFIE_MAX_BYTES + 1)
    accepted = await accept_check_in(ctx, principal, payload, signature, photo)
    decision = accepted.decision
    reasons = [r.value for r in decision.reasons] if decision else []
    # The body of ``AcceptedCheckIn``, written as JSON-ready values at once: the model's
    # construction and dump would be the largest part of building this answer.
    body = {
        "check_in_id": str(accepted.check_in_id),
        "state": accepted.state,
        "result": decision.result.value if decision else None,
        "result_zh": decision.result.text if decision else None,
        "reasons": reasons,
        "reasons_zh": reason_texts(reasons),
    }
    return JSONResponse(
        body,
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/check-ins/{accepted.check_in_id}"},
    )


@router.get(
    "/api/v1/check-ins/{check_in_id}",
    summary="One attempt: the student's own, or in the caller's jurisdiction",
    response_model=CheckInView,
    responses={401: _REFUSALS[401], 404: {"description": "No such attempt in your jurisdiction", **PROBLEM}},
)
async def get_check_in(check_in_id: UUID, principal: CurrentPrincipal, ctx: Context) -> CheckInView:
    columns = OrgColumns(
        province=StudentView.province_code,
        city=StudentView.city_code,
        county=StudentView.county_code,
        school=CheckIn.school_code,
        counselor=CounselorView.counselor_account_id,
        student=CheckIn.student_id,
    )
    async with ctx.sessionmaker() as session:
        found = (
            await session.execute(
                select(CheckIn, RoundAttendance.current_check_in_id, RoundAttendance.final)
                .join(StudentView, StudentView.student_id == CheckIn.student_id)
                .outerjoin(CounselorView, CounselorView.student_id == CheckIn.student_id)
                .outerjoin(
                    RoundAttendance,
                    (RoundAttendance.round_id == CheckIn.round_id)
                    & (RoundAttendance.student_id == CheckIn.student_id),
                )
                .where(CheckIn.id == check_in_id, jurisdiction_filter(principal, columns))
            )
        ).first()
    if found is None:
        raise not_found(f"check-in {check_in_id}")
    row, current_id, attendance_final = found
    result = CheckInResult(row.result) if row.result else None
    reasons = list(row.reasons or []) if row.state == "decided" else []
    return CheckInView(
        check_in_id=row.id,
        round_id=row.round_id,
        student_id=row.student_id,
        state=row.state,
        result=result,
        result_zh=result.text if result else None,
        reasons=reasons,
        reasons_zh=reason_texts(reasons),
        final=bool(current_id == row.id and attendance_final),
        received_at=row.received_at,
        decided_at=row.decided_at,
    )


@router.get(
    "/internal/v1/selfies/{check_in_id}",
    summary="The selfie of an attempt, for identity's face workers (Authorization: Service <token>)",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "the JPEG bytes"},
        401: {"description": "No or wrong service token", **PROBLEM},
        404: {"description": "No selfie kept (never stored, or purged)", **PROBLEM},
    },
)
async def get_selfie(
    check_in_id: UUID, ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Response:
    require_service_token(ctx.settings.service_token, authorization)
    async with ctx.sessionmaker() as session:
        content = await session.scalar(select(Selfie.content).where(Selfie.check_in_id == check_in_id))
    if content is None:
        raise not_found(f"selfie of check-in {check_in_id}")
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
