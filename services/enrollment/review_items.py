"""The one review mechanism every business type uses (DOMAIN.md "Enrollment", "Status changes";
seed 002 业务流程配置 and 审核): open an item on the configured chain, decide it level by level,
and on the last approval apply the business effect in the same unit of work.

A business registers a ``ReviewEffect`` for its family ("registration_no_id", "status_change",
"key_data_change", later "graduation", "transfer"): ``recheck`` says (in Chinese) why an item can
no longer be approved as it stands, ``apply`` makes the change and emits its events, ``revise``
validates a registrar's edit of a returned item, and ``required_levels`` names the levels a rule
makes mandatory for the item as it now stands (the chain is re-resolved from the province's
configuration when a returned item is resubmitted).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import select
from uuid6 import uuid7

from services.enrollment.domain.approval_chain import (
    ChainRule,
    ChainSubject,
    ReviewLevel,
    family_of,
    resolve_chain,
    under_supervisor,
    with_required_levels,
)
from services.enrollment.domain.region_code import level_of
from services.enrollment.domain.review_state import (
    Position,
    ReviewAction,
    ReviewNotAllowed,
    ReviewState,
    step_deadline,
    transition,
)
from services.enrollment.identity_recheck import IdentityChecks
from services.enrollment.models import School
from services.enrollment.models.workflow import ApprovalChainRule, ReviewDecision, ReviewItem
from shared.auth import Principal, Role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.enrollment import ReviewDecided
from shared.problems import Problem
from shared.service import ServiceContext
from shared.workdays import WorkdayCalendar

REVIEWER_LEVEL: dict[Role, ReviewLevel] = {
    Role.SCHOOL_LEADER: "school",  # 学籍主管领导 decides the school's step, never the registrar
    Role.COUNTY: "county",
    Role.CITY: "city",
    Role.PROVINCE: "province",
}


def calendar(ctx: ServiceContext) -> WorkdayCalendar:
    return cast(WorkdayCalendar, ctx.extras["calendar"])


@dataclass(frozen=True)
class ReviewEffect:
    recheck: Callable[[UnitOfWork, ReviewItem, date], Awaitable[str | None]]
    apply: Callable[
        [UnitOfWork, ReviewItem, Principal, date, ServiceContext, IdentityChecks], Awaitable[None]
    ]
    revise: Callable[[UnitOfWork, ReviewItem, dict[str, Any], date], Awaitable[dict[str, Any]]]
    required_levels: Callable[[UnitOfWork, ReviewItem, date], Awaitable[Sequence[ReviewLevel]]]


def recheck_reason(problem: Problem) -> str:
    """What a ``recheck`` answers for a rule the item now breaks: the first field's reason."""
    return problem.errors[0].reason_zh if problem.errors else problem.title_zh


EFFECTS: dict[str, ReviewEffect] = {}


def register_effect(family: str, effect: ReviewEffect) -> None:
    EFFECTS[family] = effect


class ItemSkipped(Exception):
    """An item the caller cannot decide now; ``reason_zh`` is what the batch answer shows."""

    def __init__(self, reason: str, reason_zh: str, *, status: int = 409) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh
        self.status = status


def lineage_of_item(item: ReviewItem) -> Lineage:
    return Lineage(
        province=item.province_code, city=item.city_code, county=item.county_code, school=item.school_code
    )


async def chain_for(uow: UnitOfWork, business_type: str, school: School) -> tuple[ReviewLevel, ...]:
    rows = await uow.session.scalars(
        select(ApprovalChainRule).where(
            ApprovalChainRule.business_type.in_([business_type, family_of(business_type)])
        )
    )
    rules = [
        ChainRule(
            business_type=r.business_type,
            levels=tuple(cast(list[ReviewLevel], r.levels)),
            school_type=r.school_type,
            stage=r.stage,
            region=r.region,
        )
        for r in rows
    ]
    chain = resolve_chain(rules, ChainSubject(business_type, school.type, school.stage, school.county_code))
    supervisor = level_of(school.supervisor_code) if school.supervisor_code else None
    return under_supervisor(chain, supervisor)


async def open_review(
    uow: UnitOfWork,
    *,
    business_type: str,
    school: School,
    student_id: str | None,
    title: str,
    payload: dict[str, Any],
    evidence_ids: Sequence[str],
    required_levels: Sequence[ReviewLevel],
    principal: Principal,
    on: date,
    cal: WorkdayCalendar,
) -> ReviewItem:
    chain = with_required_levels(await chain_for(uow, business_type, school), required_levels)
    deadline = step_deadline(on, cal)
    item = ReviewItem(
        id=str(uuid7()),
        business_type=business_type,
        student_id=student_id,
        province_code=school.province_code,
        city_code=school.city_code,
        county_code=school.county_code,
        school_code=school.code,
        chain=list(chain),
        step=0,
        state=ReviewState.PENDING.value,
        current_level=chain[0],
        title=title,
        payload=payload,
        evidence_ids=list(evidence_ids),
        submitted_by=principal.username,
        step_started_on=on,
        due_on=deadline.due_on,
        due_provisional=deadline.provisional,
    )
    uow.session.add(item)
    await uow.session.flush()  # no ORM relationship orders the inserts: the item goes first
    uow.session.add(_decision(item, None, "submitted", "", principal))
    return item


def _decision(
    item: ReviewItem, level: str | None, action: str, opinion: str, who: Principal
) -> ReviewDecision:
    return ReviewDecision(
        item_id=item.id,
        level=level,
        action=action,
        opinion=opinion,
        account_id=who.account_id,
        username=who.username,
        at=datetime.now(UTC),
    )


async def decide(
    ctx: ServiceContext,
    uow: UnitOfWork,
    item: ReviewItem,
    action: ReviewAction,
    opinion: str,
    who: Principal,
    checks: IdentityChecks,
) -> ReviewState:
    """Approve or reject ``item`` at the caller's level (the item is locked by the caller).

    ``checks``: registry verdicts fetched outside the transaction (identity_recheck.py); an
    effect that needs one more raises ``NeedsIdentityCheck`` and the caller runs it again."""
    on, cal = ctx.today(), calendar(ctx)
    level = REVIEWER_LEVEL.get(who.role)
    if level is None or item.state != ReviewState.PENDING or item.current_level != level:
        raise ItemSkipped(
            f"the item is not waiting for the {level or who.role.value} level",
            "不在本级待审核",
        )
    effect = EFFECTS.get(family_of(item.business_type))
    if effect is None:
        raise ItemSkipped(f"no effect registered for {item.business_type}", "未知的业务类型")
    if action is ReviewAction.APPROVE:
        reason = await effect.recheck(uow, item, on)
        if reason is not None:
            raise ItemSkipped(reason, reason)
    try:
        after = transition(Position(ReviewState(item.state), item.step), action, item.chain)
    except ReviewNotAllowed as exc:
        raise ItemSkipped(exc.reason, exc.reason_zh) from None
    uow.session.add(_decision(item, level, action.value, opinion, who))
    item.state = after.state.value
    item.step = after.step
    if after.state is ReviewState.PENDING:
        item.current_level = item.chain[after.step]
        _restart_clock(item, on, cal)
        return after.state
    item.current_level = None
    item.decided_at = datetime.now(UTC)
    if after.state is ReviewState.APPROVED:
        await effect.apply(uow, item, who, on, ctx, checks)
        outcome = "approved"
    else:
        item.returned_reason = opinion
        outcome = "returned"
    uow.emit(
        ReviewDecided(
            review_id=item.id,
            business_type=item.business_type,
            lineage=lineage_of_item(item),
            outcome=outcome,
            level=level,
            student_id=item.student_id,
        ),
        subject=item.id,
    )
    return after.state


def _restart_clock(item: ReviewItem, on: date, cal: WorkdayCalendar) -> None:
    deadline = step_deadline(on, cal)
    item.step_started_on = on
    item.due_on = deadline.due_on
    item.due_provisional = deadline.provisional
    item.overdue_flagged_on = None


async def resubmit(
    uow: UnitOfWork,
    item: ReviewItem,
    payload: dict[str, Any] | None,
    evidence_ids: Sequence[str] | None,
    who: Principal,
    on: date,
    cal: WorkdayCalendar,
) -> None:
    """The registrar's edit of a returned item: validated again, and back to the first level of
    the chain as the province configures it *now* (业务流程配置 may have changed since the item was
    first submitted, and an edit may change which levels a rule makes mandatory)."""
    after = transition(Position(ReviewState(item.state), item.step), ReviewAction.RESUBMIT, item.chain)
    effect = EFFECTS[family_of(item.business_type)]
    if payload is not None:
        item.payload = await effect.revise(uow, item, payload, on)
    if evidence_ids is not None:
        item.evidence_ids = list(evidence_ids)
    school = await uow.session.get(School, item.school_code)
    assert school is not None  # an item's school row exists (it was opened for it)
    configured = await chain_for(uow, item.business_type, school)
    item.chain = list(with_required_levels(configured, await effect.required_levels(uow, item, on)))
    item.state, item.step = after.state.value, after.step
    item.current_level = item.chain[after.step]
    item.returned_reason = None
    item.decided_at = None
    _restart_clock(item, on, cal)
    uow.session.add(_decision(item, None, ReviewAction.RESUBMIT.value, "", who))


async def cancel(uow: UnitOfWork, item: ReviewItem, who: Principal) -> None:
    after = transition(Position(ReviewState(item.state), item.step), ReviewAction.CANCEL, item.chain)
    item.state = after.state.value
    item.current_level = None
    uow.session.add(_decision(item, None, ReviewAction.CANCEL.value, "", who))
