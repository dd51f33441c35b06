"""Students without an ID (id_type "none", DOMAIN.md "Enrollment"): single entry with a
guardian's resident ID and evidence, reviewed up the chain to the province. Nothing is a student
record until the province approves: then the record is created, active, with a temporary number
(domain/no_id_registration.py), and ``StudentRegistered`` is emitted — not before."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.api.reviews import RESPONSES, ReviewView, check_evidence, review_view
from services.enrollment.api.students import rule_problems
from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.no_id_registration import BUSINESS_TYPE, REQUIRED_LEVELS
from services.enrollment.domain.registration import (
    CHINESE_NATIONALITY,
    course_violations,
    nationality_violations,
    temporary_student_number,
)
from services.enrollment.domain.student_state import StudentState
from services.enrollment.domain.study_length import EntryRoute
from services.enrollment.identity_recheck import IdentityChecks
from services.enrollment.models import School, SchoolClass, Student, StudentHistory
from services.enrollment.models.changes import StudentGuardian
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.records import summary_of
from services.enrollment.registering import class_and_offer
from services.enrollment.registration_windows import window_violation
from services.enrollment.review_items import (
    ReviewEffect,
    calendar,
    open_review,
    recheck_reason,
    register_effect,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import StudyForm
from shared.events.enrollment import StudentRegistered
from shared.idnumber import InvalidIdNumber, parse_resident_id
from shared.problems import Problem, field_problem
from shared.service import Context, ServiceContext

router = APIRouter(prefix="/api/v1", tags=["students"])


class Guardian(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f0-9]+$")
    relation: Literal["father", "mother", "grandparent", "other"]
    id_number: str = Field(min_length=15, max_length=18, description="the guardian's resident ID")


class NoIdStudentBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f0-9]+$")
    sex: Literal["M", "F"]
    birth_date: date
    class_id: str = Field(min_length=1, max_length=40)
    study_length: float = Field(3, ge=1, le=6, multiple_of=0.5)
    study_form: StudyForm = "full_time"
    entry_route: EntryRoute = Field("junior_high_graduate", description="入学方式 (seed 004 art. 10)")
    nationality: str = Field(
        CHINESE_NATIONALITY, max_length=3, description="国籍: a student without ID is Chinese"
    )
    ethnicity: str | None = Field(None, max_length=2, description="民族, GB/T 3304 code")
    guardian: Guardian
    evidence_ids: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=20)

    @field_validator("study_length", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("study_length must be a number of years, not a boolean")
        return value


async def _validated(
    session: AsyncSession, body: NoIdStudentBody, school_code: str, on: date, *, window: bool
) -> dict[str, Any]:
    """The body's rules; with ``window``, also the intake's registration window (the school
    registers when it submits: approvals and a revision of the same class come after the
    deadline without reopening the question)."""
    try:
        guardian = parse_resident_id(body.guardian.id_number)
    except InvalidIdNumber as exc:
        raise field_problem("guardian.id_number", exc.message_en, exc.message_zh) from None
    if not date(on.year - 30, 1, 1) <= body.birth_date <= on:
        raise field_problem("birth_date", "not a plausible birth date for a student", "出生日期不合理")
    found = await class_and_offer(session, body.class_id, school_code, None)
    if found is None:
        raise field_problem("class_id", "no such class in your school", "本校没有该班级")
    klass, school, offer = found
    # The rules every new student meets (DOMAIN.md "Enrollment" → "Study length"): the class's
    # major qualified for its intake year, the entry age against the route and study length.
    violations = course_violations(
        major_code=klass.major_code,
        offer=offer,
        birth=body.birth_date,
        route=body.entry_route,
        study_length=body.study_length,
        study_form=body.study_form,
    ) + nationality_violations("none", body.nationality.upper(), body.ethnicity)
    closed = await window_violation(session, klass, school, on) if window else None
    if closed is not None:
        violations.insert(0, closed)
    if violations:
        raise rule_problems(violations)
    payload = body.model_dump(mode="json", exclude={"evidence_ids"})
    payload["nationality"] = body.nationality.upper()
    payload["guardian"]["id_number"] = guardian.number
    return payload


@router.post(
    "/students/without-id",
    status_code=201,
    summary="Submit a student without ID for review (无证件学生单个录入)",
    responses=RESPONSES,
)
async def submit_student_without_id(
    body: NoIdStudentBody, principal: CurrentPrincipal, ctx: Context, response: Response
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    on = ctx.today()
    async with ctx.uow() as uow:
        school = await uow.session.get(School, principal.org)
        if school is None:
            raise field_problem("class_id", "no such class in your school", "本校没有该班级")
        await check_evidence(uow.session, body.evidence_ids, school.code)
        payload = await _validated(uow.session, body, school.code, on, window=True)
        item = await open_review(
            uow,
            business_type=BUSINESS_TYPE,
            school=school,
            student_id=None,
            title=f"{body.name} 无证件学生注册",
            payload=payload,
            evidence_ids=body.evidence_ids,
            required_levels=REQUIRED_LEVELS,
            principal=principal,
            on=on,
            cal=calendar(ctx),
        )
        await uow.commit()
    response.headers["Location"] = f"/api/v1/reviews/{item.id}"
    return review_view(item, on)


def _body_of(item: ReviewItem) -> NoIdStudentBody:
    return NoIdStudentBody.model_validate({**item.payload, "evidence_ids": item.evidence_ids})


async def _recheck(uow: UnitOfWork, item: ReviewItem, on: date) -> str | None:
    """At each approval: the class still exists and the rules still hold (a qualification may
    have been withdrawn since the school submitted)."""
    try:
        await _validated(uow.session, _body_of(item), item.school_code, on, window=False)
    except Problem as exc:
        return recheck_reason(exc)
    return None


async def _apply(
    uow: UnitOfWork, item: ReviewItem, who: Principal, on: date, ctx: ServiceContext, checks: IdentityChecks
) -> None:
    body = _body_of(item)
    klass = await uow.session.get(SchoolClass, body.class_id)
    school = await uow.session.get(School, item.school_code)
    assert klass is not None and school is not None
    student_id = str(uuid7())
    student = Student(
        id=student_id,
        # One temporary-number format for every path (domain/registration.py, ADR 0009).
        student_number=temporary_student_number(student_id),
        name=body.name,
        sex=body.sex,
        birth_date=body.birth_date,
        id_type="none",
        id_number=None,
        province_code=school.province_code,
        city_code=school.city_code,
        county_code=school.county_code,
        school_code=school.code,
        class_id=klass.id,
        major_code=klass.major_code,
        grade=klass.grade,
        study_length=body.study_length,
        study_form=body.study_form,
        nationality=body.nationality,
        ethnicity=body.ethnicity,
        status=StudentState.IN_SCHOOL.value,
        frozen=False,
    )
    uow.session.add(student)
    await uow.session.flush()
    uow.session.add_all(
        [
            StudentGuardian(
                student_id=student.id,
                name=body.guardian.name,
                relation=body.guardian.relation,
                id_number=item.payload["guardian"]["id_number"],
            ),
            StudentHistory(
                student_id=student.id,
                at=datetime.now(UTC),
                province=school.province_code,
                action="registered",
                detail=f"注册学籍（无证件，审核 {item.id}）：{school.name} {klass.name}",
            ),
        ]
    )
    item.student_id = student.id
    uow.emit(StudentRegistered(student=summary_of(student, school.name)), subject=student.id)


async def _revise(uow: UnitOfWork, item: ReviewItem, payload: dict[str, Any], on: date) -> dict[str, Any]:
    try:
        body = NoIdStudentBody.model_validate({**payload, "evidence_ids": item.evidence_ids})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise field_problem(f"payload.{field}", str(first.get("msg")), "取值不正确") from None
    moved = body.class_id != item.payload.get("class_id")
    return await _validated(uow.session, body, item.school_code, on, window=moved)


async def _required(uow: UnitOfWork, item: ReviewItem, on: date) -> tuple[ReviewLevel, ...]:
    return REQUIRED_LEVELS


register_effect(
    BUSINESS_TYPE, ReviewEffect(recheck=_recheck, apply=_apply, revise=_revise, required_levels=_required)
)
