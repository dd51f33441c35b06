"""Key-data changes (关键数据变更) over HTTP (DOMAIN.md "Status changes … and key-data change"):
the school proposes new name or ID data with evidence; the chain reviews it (to the province
when name and ID both change within a year); the final approval writes it and, for a new ID
number, re-runs the duplicate check and the identity check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.api.reviews import RESPONSES, ReviewView, review_view
from services.enrollment.api.status_changes import student_for_change
from services.enrollment.dedupe import registered_here
from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.key_data_change import KeyData, PastChange, judge_key_data_change
from services.enrollment.domain.registration import IdType, normalise_foreign_id
from services.enrollment.domain.review_state import ReviewState
from services.enrollment.identity_recheck import IdentityChecks, recheck_new_id
from services.enrollment.models import School, Student, StudentHistory
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.records import summary_of
from services.enrollment.registering import deps_of
from services.enrollment.review_items import (
    ReviewEffect,
    calendar,
    open_review,
    recheck_reason,
    register_effect,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import StudentKeyDataChanged
from shared.idnumber import InvalidIdNumber, parse_resident_id
from shared.problems import FieldIssue, Problem, field_problem
from shared.service import Context, ServiceContext

router = APIRouter(prefix="/api/v1", tags=["key-data changes"])
BUSINESS_TYPE = "key_data_change"


class KeyDataBody(BaseModel):
    """Only the fields that change; sex and birth date follow a resident ID (never typed)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f0-9]+$")
    id_type: IdType | None = None
    id_number: str | None = Field(None, min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$")
    evidence_ids: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=20)


def key_data_of(student: Student) -> KeyData:
    return KeyData(student.name, student.sex, student.birth_date, student.id_type, student.id_number)


def _proposed(student: Student, body: KeyDataBody) -> KeyData:
    id_type = body.id_type or student.id_type
    if body.id_number is None and body.id_type is None:
        return KeyData(
            body.name or student.name, student.sex, student.birth_date, student.id_type, student.id_number
        )
    if id_type == "none":
        if body.id_number is not None:
            raise field_problem("id_number", "a student without ID has no number", "无证件学生不填写证件号")
        return KeyData(body.name or student.name, student.sex, student.birth_date, "none", None)
    if body.id_number is None:
        raise field_problem("id_number", "give the number of the new ID type", "请填写新的证件号码")
    if id_type == "resident_id":
        try:
            rid = parse_resident_id(body.id_number)
        except InvalidIdNumber as exc:
            raise field_problem("id_number", exc.message_en, exc.message_zh) from None
        return KeyData(body.name or student.name, rid.sex, rid.birth_date, id_type, rid.number)
    return KeyData(
        body.name or student.name,
        student.sex,
        student.birth_date,
        id_type,
        normalise_foreign_id(body.id_number),
    )


async def _past_changes(session: AsyncSession, student_id: str) -> list[PastChange]:
    rows = await session.scalars(
        select(ReviewItem).where(
            ReviewItem.student_id == student_id,
            ReviewItem.business_type == BUSINESS_TYPE,
            ReviewItem.state == ReviewState.APPROVED.value,
        )
    )
    return [
        PastChange(r.decided_at.date(), frozenset(r.payload.get("changed", [])))
        for r in rows
        if r.decided_at is not None
    ]


async def _judged(
    session: AsyncSession, student: Student, body: KeyDataBody, on: date
) -> tuple[dict[str, Any], tuple[ReviewLevel, ...]]:
    proposed = _proposed(student, body)
    verdict = judge_key_data_change(
        key_data_of(student),
        proposed,
        student_number=student.student_number,
        past=await _past_changes(session, student.id),
        today=on,
    )
    if not verdict.ok:
        issues = [FieldIssue(f, en, zh) for f, en, zh in verdict.refusals]
        raise Problem(
            422,
            "Invalid field",
            slug="invalid-field",
            detail="; ".join(i.reason for i in issues),
            errors=issues,
        )
    if verdict.reruns_checks:
        await _ensure_not_registered(session, proposed)
    payload = {
        "reason": body.reason,
        "changed": sorted(verdict.changed),
        "name": proposed.name,
        "id_type": proposed.id_type,
        "id_number": proposed.id_number,
        "sex": proposed.sex,
        "birth_date": proposed.birth_date.isoformat() if proposed.birth_date else None,
        "reruns_checks": verdict.reruns_checks,
    }
    return payload, verdict.required_levels


async def _ensure_not_registered(session: AsyncSession, proposed: KeyData) -> None:
    """查重 for the new number inside the province. Across provinces the new digest is announced
    on approval (dedupe.py's IdDigestAnnounced), and a partner holding it opens problem records."""
    assert proposed.id_number is not None
    if await registered_here(session, [proposed.id_number]):
        raise Problem(
            409,
            "Already registered",
            title_zh="该证件号已在本省注册学籍",
            slug="already-registered",
            detail="a student with this ID number is already registered in this province",
        )


@router.post(
    "/students/{student_id}/key-data-changes",
    status_code=201,
    summary="Propose a key-data change (关键数据变更) with evidence",
    responses=RESPONSES,
)
async def start_key_data_change(
    student_id: Annotated[str, Path(max_length=40)],
    body: KeyDataBody,
    principal: CurrentPrincipal,
    ctx: Context,
    response: Response,
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    on = ctx.today()
    async with ctx.uow() as uow:
        student, school = await student_for_change(uow, principal, student_id, body.evidence_ids)
        payload, required = await _judged(uow.session, student, body, on)
        item = await open_review(
            uow,
            business_type=BUSINESS_TYPE,
            school=school,
            student_id=student.id,
            title=f"{student.name} 关键数据变更（{'、'.join(payload['changed'])}）",
            payload=payload,
            evidence_ids=body.evidence_ids,
            required_levels=required,
            principal=principal,
            on=on,
            cal=calendar(ctx),
        )
        await uow.commit()
    response.headers["Location"] = f"/api/v1/reviews/{item.id}"
    return review_view(item, on)


# --- the effect of the final approval -------------------------------------------------------------


def _body_of(item: ReviewItem) -> KeyDataBody:
    p = item.payload
    changed = set(p.get("changed", []))
    id_changed = bool({"id_type", "id_number"} & changed)
    return KeyDataBody(
        name=p["name"] if "name" in changed else None,
        id_type=p["id_type"] if id_changed else None,
        id_number=p["id_number"] if id_changed else None,
        reason=p["reason"],
        evidence_ids=item.evidence_ids,
    )


async def _student(uow: UnitOfWork, item: ReviewItem) -> Student:
    student = await uow.session.get(Student, item.student_id, with_for_update=True)
    if student is None:
        raise LookupError(f"review {item.id}: student {item.student_id} is gone")
    return student


async def _recheck(uow: UnitOfWork, item: ReviewItem, on: date) -> str | None:
    student = await _student(uow, item)
    try:
        await _judged(uow.session, student, _body_of(item), on)
    except Problem as exc:
        return recheck_reason(exc)
    return None


async def _apply(
    uow: UnitOfWork, item: ReviewItem, who: Principal, on: date, ctx: ServiceContext, checks: IdentityChecks
) -> None:
    student = await _student(uow, item)
    payload, _ = await _judged(uow.session, student, _body_of(item), on)
    student.name = payload["name"]
    student.id_type = payload["id_type"]
    student.id_number = payload["id_number"]
    student.sex = payload["sex"]
    student.birth_date = date.fromisoformat(payload["birth_date"]) if payload["birth_date"] else None
    if payload["reruns_checks"]:
        await recheck_new_id(
            uow, student, deps_of(ctx), checks, occasion_zh="关键数据变更后", on=on, field="id_number"
        )
    uow.session.add(
        StudentHistory(
            student_id=student.id,
            at=datetime.now(UTC),
            province=student.province_code,
            action="key_data_changed",
            # Names of the fields only: history travels with the record and may be shown widely.
            detail=f"关键数据变更：{'、'.join(payload['changed'])}（{payload['reason']}）",
        )
    )
    await uow.session.flush()
    school = await uow.session.get(School, student.school_code)
    assert school is not None
    uow.emit(
        StudentKeyDataChanged(
            student=summary_of(student, school.name), fields=payload["changed"], review_id=item.id
        ),
        subject=student.id,
    )


async def _revise(uow: UnitOfWork, item: ReviewItem, payload: dict[str, Any], on: date) -> dict[str, Any]:
    try:
        body = KeyDataBody.model_validate({**payload, "evidence_ids": item.evidence_ids})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise field_problem(f"payload.{field}", str(first.get("msg")), "取值不正确") from None
    revised, _ = await _judged(uow.session, await _student(uow, item), body, on)
    return revised


async def _required(uow: UnitOfWork, item: ReviewItem, on: date) -> tuple[ReviewLevel, ...]:
    _, required = await _judged(uow.session, await _student(uow, item), _body_of(item), on)
    return required


register_effect(
    BUSINESS_TYPE, ReviewEffect(recheck=_recheck, apply=_apply, revise=_revise, required_levels=_required)
)
