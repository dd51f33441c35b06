"""Acting on a case: the review queue (待核办), approve, reject, cancel (撤销), and reading one case.

Only the province holding the case decides (domain/case_copy.py); a reviewer acts at the level
the case waits for, in their own office; the applicant's registrar cancels. Every command is one
unit of work holding the state change, its timeline line and its events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy import ColumnElement, and_, false, or_, select
from uuid6 import uuid7

from services.transfer.api.bodies import ApproveBody, CancelBody, RejectBody
from services.transfer.api.common import (
    PROBLEMS,
    TransitionRefused,
    actor_of,
    evidence_refs,
    visible,
    visible_case,
)
from services.transfer.api.views import CaseListView, CaseView, case_summary, case_view
from services.transfer.domain.case_copy import NotHolder, SendCancelRequest, StepInput, decide
from services.transfer.domain.kinds import KINDS
from services.transfer.domain.review_levels import ReviewLevel, Side, may_review, roles_for
from services.transfer.domain.transfer_process import Approve, Cancel, CaseState, Reject, TransitionNotAllowed
from services.transfer.models import DESTINATION_COLUMNS, ORIGIN_COLUMNS, TransferCase
from services.transfer.overdue import calendar
from services.transfer.steps import load, store, timeline_of
from shared.auth import CurrentPrincipal, Principal, Role
from shared.events.transfer import TransferKind
from shared.jurisdiction import REGION_OR_SCHOOL_PATTERN, within
from shared.problems import forbidden
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])


def awaiting(principal: Principal, province: str) -> ColumnElement[bool]:
    """Cases waiting here for a review the caller's office does: the same table of levels and
    roles ``may_review`` reads, as SQL."""
    clauses = []
    for level in ReviewLevel:
        if principal.role not in roles_for(level) or principal.province != province:
            continue
        columns = ORIGIN_COLUMNS if level.side is Side.ORIGIN else DESTINATION_COLUMNS
        clauses.append(
            and_(
                TransferCase.state == CaseState.UNDER_REVIEW.value,
                TransferCase.pending_level == level.value,
                columns.province == province,
                getattr(columns, level.org_level) == principal.org,
            )
        )
    return or_(*clauses) if clauses else false()


@router.get("/transfers/queue", summary="Cases waiting for your review (待核办)", responses=PROBLEMS)
async def review_queue(
    principal: CurrentPrincipal,
    ctx: Context,
    region: Annotated[
        str | None,
        Query(pattern=REGION_OR_SCHOOL_PATTERN, description="cases with either side under this node"),
    ] = None,
) -> CaseListView:
    query = select(TransferCase).where(visible(principal), awaiting(principal, ctx.settings.province))
    if region is not None:  # narrowing only, beside the jurisdiction filter
        query = query.where(or_(within(ORIGIN_COLUMNS, region), within(DESTINATION_COLUMNS, region)))
    query = query.order_by(TransferCase.pending_since, TransferCase.id).limit(500)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(query)
        return CaseListView(items=[case_summary(case, calendar(ctx)) for case in rows])


@router.get("/transfers/{transfer_id}", summary="One case with its timeline", responses=PROBLEMS)
async def get_transfer(transfer_id: UUID, principal: CurrentPrincipal, ctx: Context) -> CaseView:
    async with ctx.sessionmaker() as session:
        case = await visible_case(session, transfer_id, principal)
        return case_view(case, await timeline_of(session, case.id), calendar(ctx))


def _pending_review(case: TransferCase, principal: Principal, here: str) -> ReviewLevel:
    if case.state != CaseState.UNDER_REVIEW or case.pending_level is None:
        raise TransitionRefused(
            TransitionNotAllowed(
                f"the case is {case.state} and waits for no review", "该转学申请无待审核环节"
            )
        )
    level = ReviewLevel(case.pending_level)
    lineage = case.lineage()
    deciding = lineage.side(level.side).province
    if deciding != here:
        raise forbidden(f"the {level.value} review is done in province {deciding}, not here")
    if not may_review(principal.role, principal.org, principal.province, level, lineage):
        raise forbidden(f"the case waits for the {level.value} review, which is not yours to do")
    return level


async def _decide(
    ctx: Context,
    transfer_id: UUID,
    principal: Principal,
    action_for: type[Approve] | type[Reject] | type[Cancel],
    opinion: str,
    evidence_ids: list[str],
) -> tuple[CaseView, bool]:
    """Take the caller's step; True when it became a cancel request to the holding province."""
    here = ctx.settings.province
    async with ctx.uow() as uow:
        case = await visible_case(uow.session, transfer_id, principal, lock=True)
        if action_for is Cancel:
            _require_applicant(case, principal, here)
            action: Approve | Reject | Cancel = Cancel()
        else:
            level = _pending_review(case, principal, here)
            action = Approve(level) if action_for is Approve else Reject(level)
        step = StepInput(
            step_id=str(uuid7()),
            actor=actor_of(principal),
            at=datetime.now(UTC).isoformat(),
            opinion=opinion,
            evidence=await evidence_refs(uow.session, evidence_ids, principal),
        )
        before = await load(uow.session, case, here)
        try:
            outcome = decide(before, action, step)
        except NotHolder as refusal:
            raise forbidden(refusal.reason) from refusal
        except TransitionNotAllowed as refusal:
            raise TransitionRefused(refusal) from refusal
        await store(uow, case, before, outcome)
        entries = await timeline_of(uow.session, case.id)
        await uow.commit()
    requested = any(isinstance(effect, SendCancelRequest) for effect in outcome.effects)
    return case_view(case, entries, calendar(ctx)), requested


def _require_applicant(case: TransferCase, principal: Principal, here: str) -> None:
    """The applying school's registrar cancels, in the province where the application was made."""
    side = KINDS[TransferKind(case.kind)].applicant_side
    applicant = case.lineage().side(side)
    if applicant.province != here:
        raise forbidden(f"the application is cancelled where it was made, in province {applicant.province}")
    if not (principal.role == Role.SCHOOL_REGISTRAR and principal.org == applicant.school):
        raise forbidden("only the applying school's registrar may cancel the application")


@router.post("/transfers/{transfer_id}/approve", summary="Approve at the pending level", responses=PROBLEMS)
async def approve_transfer(
    transfer_id: UUID, principal: CurrentPrincipal, ctx: Context, body: ApproveBody | None = None
) -> CaseView:
    body = body or ApproveBody()
    view, _ = await _decide(ctx, transfer_id, principal, Approve, body.opinion, body.evidence_ids)
    return view


@router.post("/transfers/{transfer_id}/reject", summary="Reject at the pending level", responses=PROBLEMS)
async def reject_transfer(
    transfer_id: UUID, body: RejectBody, principal: CurrentPrincipal, ctx: Context
) -> CaseView:
    view, _ = await _decide(ctx, transfer_id, principal, Reject, body.opinion, body.evidence_ids)
    return view


@router.post(
    "/transfers/{transfer_id}/cancel",
    summary="Cancel the application (撤销)",
    description=(
        "200 with the case cancelled when this province holds the case. 202 when the other "
        "province holds it: the request is sent and its answer (cancel or cancel_refused, with the "
        "reason) appears on the timeline. 409 once the records are moving."
    ),
    responses={**PROBLEMS, 202: {"description": "Cancellation requested from the province holding the case"}},
)
async def cancel_transfer(
    transfer_id: UUID,
    principal: CurrentPrincipal,
    ctx: Context,
    response: Response,
    body: CancelBody | None = None,
) -> CaseView:
    body = body or CancelBody()
    view, requested = await _decide(ctx, transfer_id, principal, Cancel, body.opinion, body.evidence_ids)
    if requested:
        response.status_code = 202
    return view
