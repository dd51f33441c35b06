"""Problem records (问题学籍) over HTTP: list and read them, act on one's side (change, evidence,
delete — always with an evidence file), arbitrate, confirm a failed identity check.

The state machine is ``domain/problem_record_state.py``; moving a case (and an in-province pair's
other row) is ``problems.take_move``; what the outcome does to the student is
``problem_effects``. A cross-province case's move is sent to the partner as a signed event in the
same unit of work.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment import audit, problem_effects
from services.enrollment.api.status_changes import ensure_no_open_change
from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.problem_record_state import (
    Act,
    Arbitrate,
    Choice,
    ConfirmIdentity,
    Move,
    ProblemKind,
    ProblemRecordState,
    RejectIdentity,
    Side,
    TransitionNotAllowed,
    allowed_moves,
    side_to_act,
    transition,
)
from services.enrollment.domain.review_state import ReviewState
from services.enrollment.identity_recheck import IdentityChecks
from services.enrollment.models import School, Student
from services.enrollment.models.problems import (
    PROBLEM_RECORD_COLUMNS,
    ProblemEvidence,
    ProblemRecord,
    ProblemRecordStep,
)
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.problems import Moved, StepBy, announce, awaiting_school, here_side, take_move
from services.enrollment.registering import deps_of
from services.enrollment.review_items import ReviewEffect, open_review, recheck_reason, register_effect
from services.enrollment.review_items import calendar as review_calendar
from services.enrollment.student_numbers import mask_student_number
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import today_in_china
from shared.events.common import Lineage
from shared.events.enrollment import ProblemRecordActed, ProblemRecordArbitrated
from shared.idnumber import mask_id_number
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, conflict, field_problem, forbidden, not_found
from shared.service import Context, ServiceContext
from shared.telemetry import ATTR_PROBLEM_RECORD_ID

router = APIRouter(prefix="/api/v1", tags=["problem records"])
tracer = trace.get_tracer("xueji.enrollment")
MAX_EVIDENCE_BYTES = 2 * 1024 * 1024  # seed 002: "文件大小不能超过2M"
# seed 002: "只能上传JPG、PNG、JPEG格式的文件" — told apart by their first bytes, not the name.
_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "The caller's role may not do this", **_PROBLEM},
    404: {"description": "No such problem record inside the caller's jurisdiction", **_PROBLEM},
    409: {"description": "Not this side's turn, or the case's state refuses the move", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}


class StepView(BaseModel):
    at: datetime
    province: str
    move: str
    side: str | None
    from_state: str
    to_state: str
    evidence_id: str | None
    note: str


class ProblemRecordView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    state: str
    resolution: str | None
    side_here: Literal["first", "second"] = Field(description="first = registered later, acts first")
    side_to_act: Literal["first", "second"] | None
    your_turn: bool = Field(description="the caller's school must act now")
    student_id: str
    student_name: str
    student_number_masked: str
    id_number_masked: str
    lineage: Lineage
    counterpart_student_id: str | None
    counterpart_province: str | None
    arbiter_level: str | None
    arbiter_org: str | None
    detail: str
    opened_at: datetime
    due_on: date | None
    due_provisional: bool
    overdue: bool
    pending_review_id: str | None = Field(
        None, description="a change or delete of this school's waiting for its review (/reviews/{id})"
    )
    steps: list[StepView] = Field(default_factory=list)


class ProblemRecordList(BaseModel):
    total: int
    items: list[ProblemRecordView]


class Arbitration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    winner: Literal["this", "counterpart"] = Field(
        description="whose identity data stands: this record's student or the other side's"
    )
    opinion: str = Field(min_length=1, max_length=500, description="仲裁意见")


class IdentityConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    accept: bool
    opinion: str = Field("", max_length=500)


def _visible(principal: Principal) -> ColumnElement[bool]:
    condition = jurisdiction_filter(principal, PROBLEM_RECORD_COLUMNS)
    if principal.role is Role.MINISTRY:
        # The ministry sees the cases it may arbitrate: cross-province ones only.
        condition = ProblemRecord.counterpart_province.is_not(None)
    return condition


def _awaiting(principal: Principal) -> ColumnElement[bool]:
    """待本单位处理: a school's turn on its own rows; a bureau's arbitration or confirmation."""
    if principal.role in SCHOOL_ROLES:
        return or_(*(awaiting_school(kind) for kind in ProblemKind))
    level = {
        Role.COUNTY: "county",
        Role.CITY: "city",
        Role.PROVINCE: "province",
        Role.MINISTRY: "ministry",
    }.get(principal.role)
    arbitration = and_(
        ProblemRecord.status == ProblemRecordState.AWAITING_ARBITRATION.value,
        ProblemRecord.arbiter_level == level,
        or_(ProblemRecord.arbiter_org == principal.org, literal(principal.role is Role.MINISTRY)),
    )
    if principal.role is Role.COUNTY:
        confirmation = ProblemRecord.status == ProblemRecordState.AWAITING_CONFIRMATION.value
        return or_(arbitration, confirmation)
    return arbitration


def _view(
    row: ProblemRecord,
    student: Student,
    principal: Principal,
    steps: list[ProblemRecordStep],
    *,
    pending_review_id: str | None = None,
) -> ProblemRecordView:
    kind, state = ProblemKind(row.kind), ProblemRecordState(row.status)
    turn = side_to_act(kind, state)
    return ProblemRecordView(
        id=row.id,
        kind=row.kind,
        state=row.status,
        resolution=row.resolution,
        side_here=here_side(row).value,
        side_to_act=turn.value if turn else None,
        your_turn=turn is here_side(row) and principal.org == row.school_code,
        student_id=student.id,
        student_name=student.name,
        student_number_masked=mask_student_number(student.student_number),
        id_number_masked=mask_id_number(student.id_number) if student.id_number else "",
        lineage=Lineage(
            province=row.province_code, city=row.city_code, county=row.county_code, school=row.school_code
        ),
        counterpart_student_id=row.counterpart_student_id,
        counterpart_province=row.counterpart_province,
        arbiter_level=row.arbiter_level,
        arbiter_org=row.arbiter_org,
        detail=row.detail,
        opened_at=row.opened_at,
        due_on=row.due_on,
        due_provisional=row.due_provisional,
        overdue=(
            row.due_on is not None
            and state is not ProblemRecordState.RESOLVED
            and row.due_on < today_in_china()
        ),
        pending_review_id=pending_review_id,
        steps=[
            StepView(
                at=s.at,
                province=s.province,
                move=s.move,
                side=s.side,
                from_state=s.from_state,
                to_state=s.to_state,
                evidence_id=s.evidence_id,
                note=s.note,
            )
            for s in steps
        ],
    )


async def _load(
    session: AsyncSession, record_id: str, principal: Principal, *, lock: bool = False
) -> tuple[ProblemRecord, Student]:
    query = (
        select(ProblemRecord, Student)
        .join(Student, Student.id == ProblemRecord.student_id)
        .where(ProblemRecord.id == record_id, _visible(principal))
    )
    found = (await session.execute(query.with_for_update(of=ProblemRecord) if lock else query)).first()
    if found is None:
        raise not_found(f"problem record {record_id}")
    return found[0], found[1]


async def _pending_reviews(session: AsyncSession, record_ids: list[str]) -> dict[str, str]:
    """Record id → the open review (pending or returned) of a change or delete of it."""
    if not record_ids:
        return {}
    record = ReviewItem.payload["problem_record_id"].astext
    rows = await session.execute(
        select(record, ReviewItem.id).where(
            ReviewItem.business_type.like(f"{REVIEW_FAMILY}:%"),
            ReviewItem.state.in_([ReviewState.PENDING.value, ReviewState.RETURNED.value]),
            record.in_(record_ids),
        )
    )
    return {record_id: review_id for record_id, review_id in rows.tuples()}


async def _steps(session: AsyncSession, record_id: str) -> list[ProblemRecordStep]:
    return list(
        await session.scalars(
            select(ProblemRecordStep)
            .where(ProblemRecordStep.problem_record_id == record_id)
            .order_by(ProblemRecordStep.id)
        )
    )


@router.get("/problem-records", summary="Problem records in the caller's jurisdiction", responses=_RESPONSES)
async def list_problem_records(
    principal: CurrentPrincipal,
    ctx: Context,
    kind: Annotated[ProblemKind | None, Query()] = None,
    state: Annotated[ProblemRecordState | None, Query()] = None,
    open_only: Annotated[bool, Query(description="hide resolved cases")] = True,
    overdue: Annotated[bool, Query(description="only cases past their 10-working-day deadline")] = False,
    awaiting_me: Annotated[
        bool, Query(description="only cases waiting for the caller: a school's turn, or a bureau's decision")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ProblemRecordList:
    if principal.role in (Role.COUNSELOR, Role.STUDENT):
        raise forbidden("problem records are handled by registrars and bureaus")
    conditions = [_visible(principal)]
    if kind is not None:
        conditions.append(ProblemRecord.kind == kind.value)
    if state is not None:
        conditions.append(ProblemRecord.status == state.value)
    elif open_only:
        conditions.append(ProblemRecord.status != ProblemRecordState.RESOLVED.value)
    if awaiting_me:
        conditions.append(_awaiting(principal))
    if overdue:
        conditions.append(ProblemRecord.due_on < today_in_china())
        conditions.append(ProblemRecord.status != ProblemRecordState.RESOLVED.value)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(ProblemRecord).where(*conditions))
        rows = (
            await session.execute(
                select(ProblemRecord, Student)
                .join(Student, Student.id == ProblemRecord.student_id)
                .where(*conditions)
                .order_by(ProblemRecord.due_on.nulls_last(), ProblemRecord.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        pending = await _pending_reviews(session, [r.id for r, _ in rows])
    return ProblemRecordList(
        total=total or 0,
        items=[_view(r, s, principal, [], pending_review_id=pending.get(r.id)) for r, s in rows],
    )


@router.get("/problem-records/{record_id}", summary="One problem record with its steps", responses=_RESPONSES)
async def get_problem_record(
    record_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ProblemRecordView:
    if principal.role in (Role.COUNSELOR, Role.STUDENT):
        raise forbidden("problem records are handled by registrars and bureaus")
    async with ctx.sessionmaker() as session:
        row, student = await _load(session, record_id, principal)
        pending = await _pending_reviews(session, [row.id])
        return _view(
            row, student, principal, await _steps(session, row.id), pending_review_id=pending.get(row.id)
        )


async def _read_evidence(upload: UploadFile) -> tuple[bytes, str]:
    content = await upload.read(MAX_EVIDENCE_BYTES + 1)
    if len(content) > MAX_EVIDENCE_BYTES:
        raise field_problem("evidence", "the file is larger than 2 MB", "证明材料文件大小不能超过2M")
    for signature, content_type in _SIGNATURES.items():
        if content.startswith(signature):
            return content, content_type
    raise field_problem(
        "evidence", "only JPG or PNG images are accepted", "证明材料只能上传JPG、PNG、JPEG格式的文件"
    )


def _refused(exc: TransitionNotAllowed) -> Problem:
    allowed = ", ".join(repr(m) for m in allowed_moves(exc.kind, exc.state)) or "none"
    return conflict(
        f"a {exc.kind.value} problem record in state {exc.state.value} cannot take this move; "
        f"allowed now: {allowed}",
        slug="problem-record-state",
    )


def _place(row: ProblemRecord) -> audit.Place:
    return audit.Place(row.province_code, row.city_code, row.county_code, row.school_code)


def _emit_act(
    uow: UnitOfWork, row: ProblemRecord, moved: Moved, side: Side, choice: Choice, student: Student
) -> None:
    """The move's events: the case's new state here and, for a cross-province case, the act
    sent to the partner province (signed, in the same unit of work)."""
    announce(uow, moved)
    if row.counterpart_province is not None and row.id_digest is not None:
        uow.emit(
            ProblemRecordActed(
                kind=row.kind,
                id_digest=row.id_digest,
                side=side.value,
                choice=choice.value,
                student_id=student.id,
            ),
            subject=student.id,
            to_province=row.counterpart_province,
        )


@router.post(
    "/problem-records/{record_id}/actions",
    summary="Handle this school's side: change, evidence or delete, with an evidence file (变更/佐证/删除)",
    description="Evidence (佐证) takes effect at once. A change or delete is submitted for review "
    "(seed 002: school leader 学籍主管领导, then the supervising bureau, as the province's flow "
    "configuration says): the answer is 202 with the review's id in ``pending_review_id``, and the "
    "case moves when the last level approves.",
    responses={**_RESPONSES, 202: {"description": "Change or delete submitted for review"}},
)
async def act_on_problem_record(
    record_id: Annotated[str, Path(max_length=40)],
    principal: CurrentPrincipal,
    ctx: Context,
    response: Response,
    choice: Annotated[Choice, Form(description="change | evidence | delete")],
    evidence: Annotated[UploadFile, File(description="证明材料: JPG or PNG, at most 2 MB")],
    note: Annotated[str, Form(max_length=500)] = "",
    new_id_number: Annotated[
        str | None, Form(max_length=40, description="for change: 变更后身份证件号")
    ] = None,
) -> ProblemRecordView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    if choice is Choice.CHANGE and not new_id_number:
        raise field_problem(
            "new_id_number", "a change needs the corrected ID number", "选择变更时必须填写变更后身份证件号"
        )
    content, content_type = await _read_evidence(evidence)
    async with ctx.uow() as uow:
        session = uow.session
        row, student = await _load(session, record_id, principal, lock=True)
        side = here_side(row)
        _check_turn(row, side, choice)
        with tracer.start_as_current_span(
            "act on problem record", attributes={ATTR_PROBLEM_RECORD_ID: row.id}
        ):
            review_id = None
            if choice is Choice.EVIDENCE:
                evidence_row = _evidence_row(row, evidence, content, content_type, principal)
                session.add(evidence_row)
                await session.flush()
                moved = await take_move(
                    session,
                    row,
                    Act(side, choice),
                    StepBy(principal.account_id, ctx.settings.province, evidence_row.id, note),
                    today=today_in_china(),
                    calendar=review_calendar(ctx),
                )
                _emit_act(uow, row, moved, side, choice, student)
                to_state = moved.outcome.state.value
            else:
                review_id = await _submit_for_review(
                    uow, ctx, principal, row, student, choice, new_id_number, note
                )
                evidence_row = _evidence_row(row, evidence, content, content_type, principal)
                session.add(evidence_row)
                await session.flush()
                await _set_review_evidence(session, review_id, evidence_row.id)
                to_state = row.status
                response.status_code = 202
            await audit.record(
                session,
                principal,
                action=f"problem_record.{choice.value}" + ("_submitted" if review_id else ""),
                subject_type="problem_record",
                subject_id=row.id,
                place=_place(row),
                detail=f"问题学籍处理：{choice.value}（{row.kind}）" + ("，提交审核" if review_id else ""),
                data={"evidence_sha256": evidence_row.sha256, "to_state": to_state, "review_id": review_id},
            )
            await uow.commit()
        return _view(row, student, principal, await _steps(session, row.id), pending_review_id=review_id)


def _check_turn(row: ProblemRecord, side: Side, choice: Choice) -> None:
    """It is this school's turn, and the state machine takes this choice now."""
    turn = side_to_act(ProblemKind(row.kind), ProblemRecordState(row.status))
    if turn is not side:
        raise conflict("it is not this school's turn to handle the case", slug="not-your-turn")
    if row.counterpart_province is not None and row.id_digest is None:
        raise conflict("this cross-province case has no ID digest to send the move with", slug="no-digest")
    try:
        transition(ProblemKind(row.kind), ProblemRecordState(row.status), Act(side, choice))
    except TransitionNotAllowed as exc:
        raise _refused(exc) from None


def _evidence_row(
    row: ProblemRecord, upload: UploadFile, content: bytes, content_type: str, principal: Principal
) -> ProblemEvidence:
    return ProblemEvidence(
        id=str(uuid7()),
        problem_record_id=row.id,
        filename=(upload.filename or "evidence")[:200],
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        uploaded_by=principal.account_id,
    )


# --- change and delete under review (seed 002 问题学籍变更/删除 → 学籍主管领导 → 教育部门) ---------------

REVIEW_FAMILY = "problem_record"


def review_business_type(choice: Choice) -> str:
    return f"{REVIEW_FAMILY}:{choice.value}"


async def _submit_for_review(
    uow: UnitOfWork,
    ctx: ServiceContext,
    principal: Principal,
    row: ProblemRecord,
    student: Student,
    choice: Choice,
    new_id_number: str | None,
    note: str,
) -> str:
    """Open the review of a change or delete; nothing happens to the case or the record yet.
    One change of a record under review at a time (a second submission is refused)."""
    await ensure_no_open_change(uow.session, student.id)
    if choice is Choice.CHANGE:
        assert new_id_number is not None
        new_id_number = (
            await problem_effects.check_new_id_number(uow.session, student, new_id_number)
        ).number
    else:
        problem_effects.check_delete(student)
    school = await uow.session.get(School, row.school_code)
    assert school is not None
    item = await open_review(
        uow,
        business_type=review_business_type(choice),
        school=school,
        student_id=student.id,
        title=f"{student.name} 问题学籍{'变更' if choice is Choice.CHANGE else '删除'}",
        payload={
            "problem_record_id": row.id,
            "choice": choice.value,
            "side": here_side(row).value,
            "new_id_number": new_id_number,
            "note": note,
            "submitted_by_account": principal.account_id,
            "evidence_id": None,
        },
        evidence_ids=[],
        required_levels=(),
        principal=principal,
        on=ctx.today(),
        cal=review_calendar(ctx),
    )
    return item.id


async def _set_review_evidence(session: AsyncSession, review_id: str, evidence_id: str) -> None:
    item = await session.get(ReviewItem, review_id)
    assert item is not None
    item.payload = {**item.payload, "evidence_id": evidence_id}


async def _case_of(uow: UnitOfWork, item: ReviewItem) -> tuple[ProblemRecord, Student]:
    found = (
        await uow.session.execute(
            select(ProblemRecord, Student)
            .join(Student, Student.id == ProblemRecord.student_id)
            .where(ProblemRecord.id == item.payload["problem_record_id"])
            .with_for_update()
        )
    ).first()
    if found is None:
        raise LookupError(f"review {item.id}: problem record {item.payload['problem_record_id']} is gone")
    return found[0], found[1]


async def _recheck_act(uow: UnitOfWork, item: ReviewItem, on: date) -> str | None:
    """At each approval: still this school's turn, the move still allowed, the number still free."""
    row, student = await _case_of(uow, item)
    choice = Choice(item.payload["choice"])
    try:
        _check_turn(row, here_side(row), choice)
        if choice is Choice.CHANGE:
            await problem_effects.check_new_id_number(uow.session, student, item.payload["new_id_number"])
        else:
            problem_effects.check_delete(student)
    except Problem as exc:
        return recheck_reason(exc)
    return None


async def _apply_act(
    uow: UnitOfWork, item: ReviewItem, who: Principal, on: date, ctx: ServiceContext, checks: IdentityChecks
) -> None:
    """The last approval: the case moves (the other side is auto-evidenced), the record changes,
    the partner province hears of it — in the approval's unit of work."""
    row, student = await _case_of(uow, item)
    payload = item.payload
    choice, side = Choice(payload["choice"]), here_side(row)
    try:
        moved = await take_move(
            uow.session,
            row,
            Act(side, choice),
            StepBy(
                payload.get("submitted_by_account") or item.submitted_by,
                ctx.settings.province,
                payload.get("evidence_id"),
                payload.get("note", ""),
            ),
            today=today_in_china(),
            calendar=review_calendar(ctx),
        )
    except TransitionNotAllowed as exc:
        raise _refused(exc) from None
    if choice is Choice.CHANGE:
        await problem_effects.change_id_number(
            uow, student, payload["new_id_number"], deps_of(ctx), today_in_china(), checks
        )
    else:
        await problem_effects.delete_record(uow.session, student, ctx.settings.province)
    _emit_act(uow, row, moved, side, choice, student)
    await audit.record(
        uow.session,
        who,
        action=f"problem_record.{choice.value}",
        subject_type="problem_record",
        subject_id=row.id,
        place=_place(row),
        detail=f"问题学籍处理：{choice.value}（{row.kind}），审核通过（{item.id}）",
        data={"review_id": item.id, "to_state": moved.outcome.state.value},
    )


async def _revise_act(uow: UnitOfWork, item: ReviewItem, payload: dict[str, Any], on: date) -> dict[str, Any]:
    """A returned change may be corrected (the new number, the note); the choice stays."""
    if payload.get("choice", item.payload["choice"]) != item.payload["choice"]:
        raise field_problem(
            "payload.choice", "the choice cannot be changed; cancel and act again", "不能修改处理方式"
        )
    note = payload.get("note", item.payload.get("note", ""))
    if not isinstance(note, str) or len(note) > 500:
        raise field_problem("payload.note", "at most 500 characters", "备注不能超过500个字符")
    revised = {**item.payload, "note": note}
    if item.payload["choice"] == Choice.CHANGE.value:
        number = payload.get("new_id_number", item.payload["new_id_number"])
        if not isinstance(number, str):
            raise field_problem(
                "payload.new_id_number", "give the corrected ID number", "请填写变更后身份证件号"
            )
        _, student = await _case_of(uow, item)
        revised["new_id_number"] = (
            await problem_effects.check_new_id_number(uow.session, student, number)
        ).number
    return revised


async def _no_required_levels(uow: UnitOfWork, item: ReviewItem, on: date) -> tuple[ReviewLevel, ...]:
    return ()


register_effect(
    REVIEW_FAMILY,
    ReviewEffect(
        recheck=_recheck_act, apply=_apply_act, revise=_revise_act, required_levels=_no_required_levels
    ),
)


def _may_arbitrate(principal: Principal, row: ProblemRecord) -> bool:
    level, org = row.arbiter_level, row.arbiter_org
    if level == "ministry":
        return principal.role is Role.MINISTRY
    role = {"county": Role.COUNTY, "city": Role.CITY, "province": Role.PROVINCE}.get(level or "")
    return role is not None and principal.role is role and principal.org == org


@router.post(
    "/problem-records/{record_id}/arbitration",
    summary="The common superior (cross-province: the ministry) decides a case both sides evidenced (仲裁)",
    responses=_RESPONSES,
)
async def arbitrate_problem_record(
    record_id: Annotated[str, Path(max_length=40)],
    body: Arbitration,
    principal: CurrentPrincipal,
    ctx: Context,
) -> ProblemRecordView:
    async with ctx.uow() as uow:
        session = uow.session
        row, student = await _load(session, record_id, principal, lock=True)
        if row.status != ProblemRecordState.AWAITING_ARBITRATION.value:
            raise conflict(f"the case is {row.status}, not awaiting arbitration", slug="problem-record-state")
        if not _may_arbitrate(principal, row):
            raise forbidden(f"this case is arbitrated by the {row.arbiter_level} bureau {row.arbiter_org}")
        winner = here_side(row) if body.winner == "this" else here_side(row).other
        moved = await take_move(
            session,
            row,
            Arbitrate(winner),
            StepBy(principal.account_id, ctx.settings.province, note=body.opinion),
            today=today_in_china(),
            calendar=review_calendar(ctx),
        )
        announce(uow, moved)
        if row.counterpart_province is not None and row.id_digest is not None:
            winner_province = ctx.settings.province if body.winner == "this" else row.counterpart_province
            uow.emit(
                ProblemRecordArbitrated(
                    kind=row.kind,
                    id_digest=row.id_digest,
                    winner_province=winner_province,
                    opinion=body.opinion,
                ),
                subject=student.id,
                to_province=row.counterpart_province,
            )
        await audit.record(
            session,
            principal,
            action="problem_record.arbitrated",
            subject_type="problem_record",
            subject_id=row.id,
            place=_place(row),
            detail=f"问题学籍仲裁：{winner.value} 方通过",
            data={"winner": winner.value, "opinion": body.opinion},
        )
        await uow.commit()
        return _view(row, student, principal, await _steps(session, row.id))


@router.post(
    "/problem-records/{record_id}/identity-confirmation",
    summary="The county confirms (or returns) a failed identity check the school gave evidence for",
    responses=_RESPONSES,
)
async def confirm_identity(
    record_id: Annotated[str, Path(max_length=40)],
    body: IdentityConfirmation,
    principal: CurrentPrincipal,
    ctx: Context,
) -> ProblemRecordView:
    require_role(principal, Role.COUNTY)
    async with ctx.uow() as uow:
        session = uow.session
        row, student = await _load(session, record_id, principal, lock=True)
        move: Move = ConfirmIdentity() if body.accept else RejectIdentity()
        try:
            moved = await take_move(
                session,
                row,
                move,
                StepBy(principal.account_id, ctx.settings.province, note=body.opinion),
                today=today_in_china(),
                calendar=review_calendar(ctx),
            )
        except TransitionNotAllowed as exc:
            raise _refused(exc) from None
        if body.accept:
            await problem_effects.grant_formal_number(session, student, ctx.settings.province)
        announce(uow, moved)
        await audit.record(
            session,
            principal,
            action="problem_record.identity_" + ("confirmed" if body.accept else "returned"),
            subject_type="problem_record",
            subject_id=row.id,
            place=_place(row),
            detail="身份核验问题学籍：" + ("确认" if body.accept else "退回"),
            data={"opinion": body.opinion},
        )
        await uow.commit()
        return _view(row, student, principal, await _steps(session, row.id))


@router.get(
    "/problem-records/{record_id}/evidence/{evidence_id}",
    summary="Download an evidence file of a case in the caller's jurisdiction",
    response_class=Response,
    responses=_RESPONSES,
)
async def get_evidence(
    record_id: Annotated[str, Path(max_length=40)],
    evidence_id: Annotated[str, Path(max_length=40)],
    principal: CurrentPrincipal,
    ctx: Context,
) -> Response:
    if principal.role in (Role.COUNSELOR, Role.STUDENT):
        raise forbidden("problem records are handled by registrars and bureaus")
    async with ctx.uow() as uow:
        row, _ = await _load(uow.session, record_id, principal)
        evidence_row = await uow.session.scalar(
            select(ProblemEvidence).where(
                ProblemEvidence.id == evidence_id, ProblemEvidence.problem_record_id == row.id
            )
        )
        if evidence_row is None:
            raise not_found(f"evidence {evidence_id}")
        # Evidence shows documents of a child: who opened it is logged like a full ID read.
        await audit.record(
            uow.session,
            principal,
            action="problem_evidence.read",
            subject_type="problem_record",
            subject_id=row.id,
            place=_place(row),
            detail="查看问题学籍证明材料",
            data={"evidence_id": evidence_row.id},
        )
        await uow.commit()
        return Response(evidence_row.content, media_type=evidence_row.content_type)
