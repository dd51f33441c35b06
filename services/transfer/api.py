"""Transfer routes: apply, look up, list, the review queue (待核办), approve, reject, cancel.

Every query carries the caller's jurisdiction over both sides of the case (either province's
school, county, city or province sees it); every command is one unit of work holding the state
change, its timeline line and its events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.transfer.bodies import ApplyBody, ApproveBody, CancelBody, RejectBody
from services.transfer.domain.cross_province_transfer import (
    REVIEWERS,
    Approve,
    Cancel,
    CrossProvinceTransferState,
    Reject,
    ReviewLevel,
    Side,
    TransitionNotAllowed,
    may_cancel,
    may_review,
    review_pending,
    side_of,
    state_pending,
)
from services.transfer.models import (
    DESTINATION_COLUMNS,
    OPEN_CASE_INDEX,
    ORIGIN_COLUMNS,
    SchoolView,
    TransferCase,
    TransferStep,
)
from services.transfer.steps import append_step, partner_of, take_step, tracer
from services.transfer.views import CaseListView, CaseView, TransitionRefused, case_summary, case_view
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.transfer import CaseOpened, CaseParty, TransferApproved, TransferRequested
from shared.jurisdiction import any_jurisdiction
from shared.problems import conflict, field_problem, forbidden, not_found
from shared.service import Context
from shared.telemetry import ATTR_TRANSFER_ID, ATTR_TRANSFER_STEP

router = APIRouter(prefix="/api/v1", tags=["transfers"])

CROSS_PROVINCE = "cross_province"

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", **_PROBLEM},
    403: {"description": "Not yours to do", **_PROBLEM},
    404: {"description": "No such case in your jurisdiction", **_PROBLEM},
    409: {"description": "The case's state does not allow it", **_PROBLEM},
    422: {"description": "A field is invalid", **_PROBLEM},
}


def _actor(principal: Principal) -> CaseParty:
    return CaseParty(
        username=principal.username, role=principal.role.value, org=principal.org, province=principal.province
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    return any_jurisdiction(principal, DESTINATION_COLUMNS, ORIGIN_COLUMNS)


async def _steps(session: AsyncSession, transfer_id: str) -> list[TransferStep]:
    rows = await session.scalars(
        select(TransferStep).where(TransferStep.transfer_id == transfer_id).order_by(TransferStep.seq)
    )
    return list(rows)


async def _visible_case(session: AsyncSession, transfer_id: UUID, principal: Principal) -> TransferCase:
    """The case if the caller may see it, locked for the rest of the unit of work."""
    case = await session.scalar(
        select(TransferCase).where(TransferCase.id == str(transfer_id), _visible(principal)).with_for_update()
    )
    if case is None:
        raise not_found(f"transfer {transfer_id}")
    return case


@router.post(
    "/transfers",
    status_code=201,
    summary="Apply for a cross-province transfer (转入学校发起)",
    responses=PROBLEMS,
)
async def apply_for_transfer(body: ApplyBody, principal: CurrentPrincipal, ctx: Context) -> CaseView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    province = ctx.settings.province
    if body.origin_province == province:
        raise field_problem(
            "origin_province",
            "must be another province than this one",
            "转出省不能是本省（省内转学另行办理）",
        )
    if body.origin_province not in ctx.settings.partners:
        raise field_problem(
            "origin_province",
            f"province {body.origin_province} is not a partner this province exchanges records with",
            "该省份尚未与本省建立跨省转学数据交换",
        )
    now = datetime.now(UTC)
    transfer_id = uuid7()
    applicant = _actor(principal)
    with tracer.start_as_current_span(
        "transfer step apply", attributes={ATTR_TRANSFER_ID: str(transfer_id), ATTR_TRANSFER_STEP: "apply"}
    ):
        async with ctx.uow() as uow:
            school = await uow.session.get(SchoolView, principal.org)
            if school is None or school.province != province:
                raise field_problem(
                    "destination.school",
                    f"school {principal.org} is not registered in province {province}",
                    "本校尚未在本省学籍系统中注册",
                )
            destination = Lineage(
                province=province, city=school.city, county=school.county, school=school.school_code
            )
            case = TransferCase(
                id=str(transfer_id),
                kind=CROSS_PROVINCE,
                state=CrossProvinceTransferState.APPLIED.value,
                student_number=body.student_number,
                student_name=body.student_name,
                origin_province=body.origin_province,
                dest_province=province,
                dest_city=school.city,
                dest_county=school.county,
                dest_school=school.school_code,
                dest_school_name=school.name,
                dest_class_id=body.destination_class_id,
                grade=body.grade,
                reason=body.reason,
                origin_check_reasons=[],
                dest_check_reasons=[],
                created_at=now,
                updated_at=now,
            )
            uow.session.add(case)
            try:
                await uow.session.flush()
            except IntegrityError as exc:
                if OPEN_CASE_INDEX in str(exc):
                    raise conflict(
                        f"student {body.student_number} already has a transfer under way",
                        slug="transfer-open",
                    ) from exc
                raise
            step = await append_step(
                uow.session, case, action="apply", level=None, actor=applicant, opinion=body.reason, at=now
            )
            uow.emit(
                TransferRequested(
                    transfer_id=case.id,
                    kind=CROSS_PROVINCE,
                    student_number=case.student_number,
                    student_name=case.student_name,
                    origin_province=case.origin_province,
                    destination=destination,
                    destination_class_id=case.dest_class_id,
                    grade=case.grade,
                ),
                subject=case.id,
                correlation_id=transfer_id,
            )
            uow.emit(
                CaseOpened(
                    transfer_id=case.id,
                    kind=CROSS_PROVINCE,
                    student_number=case.student_number,
                    student_name=case.student_name,
                    origin_province=case.origin_province,
                    destination=destination,
                    destination_school_name=case.dest_school_name,
                    destination_class_id=case.dest_class_id,
                    grade=case.grade,
                    reason=case.reason,
                    applicant=applicant,
                    applied_at=now.isoformat(),
                ),
                subject=case.id,
                correlation_id=transfer_id,
                to_province=case.origin_province,
            )
            await uow.commit()
    return case_view(case, [step])


@router.get("/transfers", summary="Transfers in your jurisdiction (跨省转学查询)", responses=PROBLEMS)
async def list_transfers(
    principal: CurrentPrincipal,
    ctx: Context,
    state: CrossProvinceTransferState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseListView:
    query = select(TransferCase).where(_visible(principal))
    if state is not None:
        query = query.where(TransferCase.state == state.value)
    query = query.order_by(TransferCase.created_at.desc(), TransferCase.id).limit(limit).offset(offset)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(query)
        return CaseListView(items=[case_summary(case) for case in rows])


def _awaiting(principal: Principal, province: str) -> ColumnElement[bool]:
    """Cases waiting for a review the caller may do here, as SQL from the same table of reviewers
    that ``may_review`` reads."""
    clauses = []
    for level, reviewer in REVIEWERS.items():
        if principal.role not in reviewer.roles:
            continue
        columns = DESTINATION_COLUMNS if reviewer.side is Side.DESTINATION else ORIGIN_COLUMNS
        org_column = columns.school if reviewer.org_level == "school" else columns.county
        clauses.append(
            and_(
                TransferCase.state == state_pending(level).value,
                org_column == principal.org,
                columns.province == principal.province,
                columns.province == province,
            )
        )
    return or_(*clauses) if clauses else false()


@router.get("/transfers/queue", summary="Cases waiting for your review (待核办)", responses=PROBLEMS)
async def review_queue(principal: CurrentPrincipal, ctx: Context) -> CaseListView:
    query = (
        select(TransferCase)
        .where(_visible(principal), _awaiting(principal, ctx.settings.province))
        .order_by(TransferCase.updated_at, TransferCase.id)
        .limit(500)
    )
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(query)
        return CaseListView(items=[case_summary(case) for case in rows])


@router.get("/transfers/{transfer_id}", summary="One case with its timeline", responses=PROBLEMS)
async def get_transfer(transfer_id: UUID, principal: CurrentPrincipal, ctx: Context) -> CaseView:
    async with ctx.sessionmaker() as session:
        case = await session.scalar(
            select(TransferCase).where(TransferCase.id == str(transfer_id), _visible(principal))
        )
        if case is None:
            raise not_found(f"transfer {transfer_id}")
        return case_view(case, await _steps(session, case.id))


def _level_to_review(case: TransferCase, principal: Principal, province: str) -> ReviewLevel:
    """The case's pending level, if the caller may review it here; 409 when no review waits."""
    try:
        pending = review_pending(CrossProvinceTransferState(case.state))
    except TransitionNotAllowed as refusal:
        raise TransitionRefused(refusal) from refusal
    lineage = case.lineage()
    reviewing_side = REVIEWERS[pending].side
    if reviewing_side is not side_of(province, lineage):
        where = lineage.side(reviewing_side).province
        raise forbidden(f"the {pending.value} review is done in province {where}, not here")
    if not may_review(principal.role, principal.org, principal.province, pending, lineage):
        raise forbidden(f"the case waits for the {pending.value} review, which is not yours to do")
    return pending


async def _take(
    uow: UnitOfWork, case: TransferCase, action: Approve | Reject | Cancel, principal: Principal, opinion: str
) -> None:
    """A person's step on a case of this province; the other province is told."""
    try:
        await take_step(
            uow,
            case,
            action,
            actor=_actor(principal),
            at=datetime.now(UTC),
            opinion=opinion,
            tell=partner_of(case, principal.province),
        )
    except TransitionNotAllowed as refusal:
        raise TransitionRefused(refusal) from refusal


@router.post("/transfers/{transfer_id}/approve", summary="Approve at the pending level", responses=PROBLEMS)
async def approve_transfer(
    transfer_id: UUID, principal: CurrentPrincipal, ctx: Context, body: ApproveBody | None = None
) -> CaseView:
    async with ctx.uow() as uow:
        case = await _visible_case(uow.session, transfer_id, principal)
        level = _level_to_review(case, principal, ctx.settings.province)
        action = Approve(level, origin_checked=case.origin_checked, destination_checked=case.dest_checked)
        await _take(uow, case, action, principal, body.opinion if body else "")
        if level is ReviewLevel.ORIGIN_BUREAU:
            # Every reviewer has approved: enrollment here releases the record (自动调档).
            uow.emit(
                TransferApproved(
                    transfer_id=case.id,
                    student_number=case.student_number,
                    to_province=case.dest_province,
                    destination=Lineage(
                        province=case.dest_province,
                        city=case.dest_city,
                        county=case.dest_county,
                        school=case.dest_school,
                    ),
                    destination_class_id=case.dest_class_id,
                ),
                subject=case.student_id or case.id,
                correlation_id=UUID(case.id),
            )
        steps = await _steps(uow.session, case.id)
        await uow.commit()
    return case_view(case, steps)


@router.post("/transfers/{transfer_id}/reject", summary="Reject at the pending level", responses=PROBLEMS)
async def reject_transfer(
    transfer_id: UUID, body: RejectBody, principal: CurrentPrincipal, ctx: Context
) -> CaseView:
    async with ctx.uow() as uow:
        case = await _visible_case(uow.session, transfer_id, principal)
        level = _level_to_review(case, principal, ctx.settings.province)
        await _take(uow, case, Reject(level), principal, body.opinion)
        steps = await _steps(uow.session, case.id)
        await uow.commit()
    return case_view(case, steps)


@router.post("/transfers/{transfer_id}/cancel", summary="Cancel the application (撤销)", responses=PROBLEMS)
async def cancel_transfer(
    transfer_id: UUID, principal: CurrentPrincipal, ctx: Context, body: CancelBody | None = None
) -> CaseView:
    async with ctx.uow() as uow:
        case = await _visible_case(uow.session, transfer_id, principal)
        lineage = case.lineage()
        if side_of(ctx.settings.province, lineage) is not Side.DESTINATION:
            raise forbidden(
                f"the application is cancelled where it was made, in province {case.dest_province}"
            )
        if not may_cancel(principal.role, principal.org, principal.province, lineage):
            raise forbidden("only the applying school's registrar may cancel the application")
        await _take(uow, case, Cancel(), principal, body.opinion if body else "")
        steps = await _steps(uow.session, case.id)
        await uow.commit()
    return case_view(case, steps)
