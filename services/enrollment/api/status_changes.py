"""Status changes (学籍异动) over HTTP: the school starts one with evidence, the configured chain
reviews it (api/reviews.py), and the final approval changes the record and emits
``StudentStatusChanged`` in the same unit of work (DOMAIN.md "Status changes")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.api.reviews import RESPONSES, ReviewView, check_evidence, review_view
from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.pending_action import (
    ANSWERS_ZH,
    ActionKind,
    ActionState,
    Answer,
    Standing,
    answers,
)
from services.enrollment.domain.review_state import ReviewState
from services.enrollment.domain.status_change import (
    CHANGE_NAME_ZH,
    CHECKIN_CAUSE,
    UNDOES,
    ChangeRefused,
    ChangeRequest,
    ChangeType,
    Course,
    apply_change,
    business_type,
    required_levels,
)
from services.enrollment.domain.student_state import StudentState, is_frozen
from services.enrollment.identity_recheck import IdentityChecks
from services.enrollment.models import STUDENT_ORG, School, SchoolClass, SchoolMajor, Student, StudentHistory
from services.enrollment.models.pending_actions import PendingAction
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.pending_actions import link_change, resolve_by_change
from services.enrollment.records import summary_of
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
from shared.events.enrollment import StudentStatusChanged
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context, ServiceContext
from shared.telemetry import ATTR_CHANGE_TYPE, ATTR_STUDENT_ID

router = APIRouter(prefix="/api/v1", tags=["status changes"])
tracer = trace.get_tracer("xueji.enrollment")


class StatusChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: ChangeType
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$")
    evidence_ids: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=20)
    new_major_code: str | None = Field(None, pattern=r"^[0-9]{6}$", description="转专业")
    new_class_id: str | None = Field(None, max_length=40, description="留级/跳级/转专业/复学: the new class")
    new_study_form: StudyForm | None = Field(None, description="转学习形式")
    cause: Literal["checkin_misses"] | None = Field(
        None, description="checkin_misses: made because of missed check-ins; undoing it needs the province"
    )
    pending_action_id: str | None = Field(
        None,
        max_length=40,
        description="the pending action (待办, /pending-actions) this change answers; it is resolved "
        "when the change is approved",
    )


class Suspension(BaseModel):
    """When and at what grade the student was suspended (shown with a 复学 request)."""

    suspended_on: date | None
    grade: int
    class_id: str | None


def course_of(student: Student) -> Course:
    return Course(
        status=StudentState(student.status),
        grade=student.grade,
        major_code=student.major_code,
        class_id=student.class_id,
        study_length=student.study_length,
        study_form=student.study_form,
    )


async def _request_of(session: AsyncSession, student: Student, body: StatusChangeBody) -> ChangeRequest:
    """The change with its class looked up: the class must be the school's, and of the major."""
    klass = None
    if body.new_class_id is not None:
        klass = await session.scalar(
            select(SchoolClass).where(
                SchoolClass.id == body.new_class_id, SchoolClass.school_code == student.school_code
            )
        )
        if klass is None:
            raise field_problem("new_class_id", "no such class in the school", "本校没有该班级")
        wanted_major = body.new_major_code or student.major_code
        if klass.major_code != wanted_major:
            raise field_problem("new_class_id", "the class is of another major", "该班级不属于所选专业")
    if body.type is ChangeType.CHANGE_MAJOR and body.new_major_code is not None:
        qualified = await session.get(SchoolMajor, (student.school_code, body.new_major_code, student.grade))
        if qualified is None:
            raise field_problem(
                "new_major_code",
                "the school has no qualification for this major in the student's intake year",
                "学校在该生入学年份无该专业招生资质",
            )
    return ChangeRequest(
        type=body.type,
        new_major_code=body.new_major_code,
        new_class_id=body.new_class_id,
        new_class_grade=klass.grade if klass else None,
        new_study_form=body.new_study_form,
    )


async def _last_approved(session: AsyncSession, student_id: str, change: ChangeType) -> ReviewItem | None:
    item: ReviewItem | None = await session.scalar(
        select(ReviewItem)
        .where(
            ReviewItem.student_id == student_id,
            ReviewItem.business_type == business_type(change),
            ReviewItem.state == ReviewState.APPROVED.value,
        )
        .order_by(ReviewItem.decided_at.desc())
        .limit(1)
    )
    return item


def _suspension_of(item: ReviewItem | None) -> Suspension | None:
    if item is None:
        return None
    before = item.payload.get("before", {})
    return Suspension(
        suspended_on=item.decided_at.date() if item.decided_at else None,
        grade=int(before.get("grade", 0)),
        class_id=before.get("class_id"),
    )


async def _validated(
    session: AsyncSession, student: Student, body: StatusChangeBody, on: date
) -> tuple[dict[str, Any], tuple[ReviewLevel, ...]]:
    request = await _request_of(session, student, body)
    course = course_of(student)
    try:
        apply_change(course, request, on)
    except ChangeRefused as exc:
        raise field_problem(exc.refusal.field, exc.refusal.reason, exc.refusal.reason_zh) from None
    payload: dict[str, Any] = {
        **body.model_dump(mode="json", exclude={"evidence_ids"}),
        "before": {
            "status": student.status,
            "grade": student.grade,
            "class_id": student.class_id,
            "major_code": student.major_code,
            "study_form": student.study_form,
        },
    }
    undone = await _last_approved(session, student.id, UNDOES[body.type]) if body.type in UNDOES else None
    if body.type is ChangeType.RESUME:
        suspension = _suspension_of(undone)
        payload["suspension"] = suspension.model_dump(mode="json") if suspension else None
    cause = undone.payload.get("cause") if undone else None
    return payload, required_levels(request, course, undone_cause=cause)


@router.post(
    "/students/{student_id}/status-changes",
    status_code=201,
    summary="Start a status change (学籍异动) with evidence",
    responses=RESPONSES,
)
async def start_status_change(
    student_id: Annotated[str, Path(max_length=40)],
    body: StatusChangeBody,
    principal: CurrentPrincipal,
    ctx: Context,
    response: Response,
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    on = ctx.today()
    attributes = {ATTR_STUDENT_ID: student_id, ATTR_CHANGE_TYPE: body.type.value}
    with tracer.start_as_current_span("open status change", attributes=attributes):
        async with ctx.uow() as uow:
            student, school = await student_for_change(uow, principal, student_id, body.evidence_ids)
            action = await _answered_action(uow.session, student, body)
            if action is not None and action.kind == ActionKind.MISS_THRESHOLD.value:
                # Made because of missed check-ins: undoing it later needs the province.
                body = body.model_copy(update={"cause": CHECKIN_CAUSE})
            payload, required = await _validated(uow.session, student, body, on)
            item = await open_review(
                uow,
                business_type=business_type(body.type),
                school=school,
                student_id=student.id,
                title=f"{student.name} {CHANGE_NAME_ZH[body.type]}",
                payload=payload,
                evidence_ids=body.evidence_ids,
                required_levels=required,
                principal=principal,
                on=on,
                cal=calendar(ctx),
            )
            if action is not None:
                await link_change(uow.session, action, item.id)
            await uow.commit()
    response.headers["Location"] = f"/api/v1/reviews/{item.id}"
    return review_view(item, on)


async def _answered_action(
    session: AsyncSession, student: Student, body: StatusChangeBody
) -> PendingAction | None:
    """The pending action the change names: the student's, still open, and one this change
    answers (DOMAIN.md: non-full-time, suspend or withdraw for missed rounds; suspend for leave)."""
    if body.pending_action_id is None:
        return None
    action = await session.scalar(
        select(PendingAction)
        .where(PendingAction.id == body.pending_action_id, PendingAction.student_id == student.id)
        .with_for_update()
    )
    if action is None:
        raise field_problem(
            "pending_action_id", "no such pending action of this student", "该学生没有此待办事项"
        )
    if action.state != ActionState.OPEN.value:
        raise field_problem(
            "pending_action_id",
            f"the pending action is {action.state}",
            "该待办事项已办结或已撤回",
            status=409,
        )
    kind = ActionKind(action.kind)
    if not answers(kind, Answer(body.type, body.new_study_form)):
        raise field_problem(
            "type",
            f"this change does not answer a {kind.value} pending action",
            f"该待办应办理{ANSWERS_ZH[kind]}",
        )
    return action


async def student_for_change(
    uow: UnitOfWork, principal: Principal, student_id: str, evidence_ids: list[str]
) -> tuple[Student, School]:
    """The record a registrar asks to change (status or key data): locked, inside the caller's
    jurisdiction, its evidence the school's own, and no other change of it under review."""
    student = await uow.session.scalar(
        select(Student)
        .where(Student.id == student_id, jurisdiction_filter(principal, STUDENT_ORG))
        .with_for_update()
    )
    if student is None:
        raise not_found(f"student {student_id}")
    await check_evidence(uow.session, evidence_ids, student.school_code)
    await ensure_no_open_change(uow.session, student.id)
    school = await uow.session.get(School, student.school_code)
    assert school is not None  # a student's school row exists (foreign key)
    return student, school


async def ensure_no_open_change(session: AsyncSession, student_id: str) -> None:
    """One change of a record under review at a time: two would each be judged on a record the
    other is about to change."""
    open_item = await session.scalar(
        select(ReviewItem.id).where(
            ReviewItem.student_id == student_id,
            ReviewItem.state.in_([ReviewState.PENDING.value, ReviewState.RETURNED.value]),
        )
    )
    if open_item is not None:
        raise Problem(
            409,
            "Conflict",
            title_zh="该学生已有未办结的变更申请",
            slug="change-open",
            detail=f"review {open_item} of this student is still open",
        )


# --- the effect of the final approval -------------------------------------------------------------


def _body_of(item: ReviewItem) -> StatusChangeBody:
    data = {k: v for k, v in item.payload.items() if k not in ("before", "suspension")}
    return StatusChangeBody.model_validate({**data, "evidence_ids": item.evidence_ids})


async def _locked_student(uow: UnitOfWork, item: ReviewItem) -> Student:
    student = await uow.session.get(Student, item.student_id, with_for_update=True)
    if student is None:
        raise LookupError(f"review {item.id}: student {item.student_id} is gone")
    return student


async def _recheck(uow: UnitOfWork, item: ReviewItem, on: date) -> str | None:
    student = await _locked_student(uow, item)
    try:
        request = await _request_of(uow.session, student, _body_of(item))
        apply_change(course_of(student), request, on)
    except ChangeRefused as exc:
        return exc.refusal.reason_zh
    except Problem as exc:
        return recheck_reason(exc)
    return None


async def _apply(
    uow: UnitOfWork, item: ReviewItem, who: Principal, on: date, ctx: ServiceContext, checks: IdentityChecks
) -> None:
    student = await _locked_student(uow, item)
    body = _body_of(item)
    request = await _request_of(uow.session, student, body)
    before = student.status
    after = apply_change(course_of(student), request, on)
    student.status = after.status.value
    student.grade = after.grade
    student.major_code = after.major_code
    student.class_id = after.class_id
    student.study_form = after.study_form
    student.frozen = is_frozen(after.status)
    school = await uow.session.get(School, student.school_code)
    assert school is not None
    uow.session.add(
        StudentHistory(
            student_id=student.id,
            at=datetime.now(UTC),
            province=student.province_code,
            action=f"status_change:{body.type.value}",
            detail=f"学籍异动：{CHANGE_NAME_ZH[body.type]}（{body.reason}）",
        )
    )
    await uow.session.flush()
    uow.emit(
        StudentStatusChanged(
            student=summary_of(student, school.name),
            change_type=body.type.value,
            from_status=before,
            review_id=item.id,
        ),
        subject=student.id,
    )
    # A pending action (待办) this change answers is resolved with it.
    await resolve_by_change(uow.session, item, Standing(student.status, student.study_form))


async def _revise(uow: UnitOfWork, item: ReviewItem, payload: dict[str, Any], on: date) -> dict[str, Any]:
    try:
        body = StatusChangeBody.model_validate({**payload, "evidence_ids": item.evidence_ids})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise field_problem(f"payload.{field}", str(first.get("msg")), "取值不正确") from None
    if business_type(body.type) != item.business_type:
        raise field_problem("payload.type", "the change type cannot be changed", "不能修改异动类型")
    linked = item.payload.get("pending_action_id")
    if linked is not None:
        # The pending action it answers, and the cause that came with it, stay as first submitted.
        body = body.model_copy(update={"pending_action_id": linked, "cause": item.payload.get("cause")})
    student = await _locked_student(uow, item)
    revised, _ = await _validated(uow.session, student, body, on)
    return revised


async def _required(uow: UnitOfWork, item: ReviewItem, on: date) -> tuple[ReviewLevel, ...]:
    _, required = await _validated(uow.session, await _locked_student(uow, item), _body_of(item), on)
    return required


register_effect(
    "status_change", ReviewEffect(recheck=_recheck, apply=_apply, revise=_revise, required_levels=_required)
)
