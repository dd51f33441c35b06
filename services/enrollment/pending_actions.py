"""Pending actions (待办) of the school registrar, opened by check-in's reports and answered by a
status change (domain/pending_action.py has the rules).

- ``open_action``: once per report (the ``kind`` + ``source_key`` unique key makes a replayed
  or duplicated report, and a report arriving after its own withdrawal, change nothing).
- ``link_change``: a status change started for the action names it; ``resolve_by_change`` closes
  it when that change is approved (in the approval's unit of work).
- ``withdraw_prompt``: an accepted appeal — close the action, withdraw a change still under
  review, revert one already applied (history says why, ``StudentStatusChanged`` announces it).
- ``flag_overdue_actions``: the sweeper marks actions past their deadline with no answer, once.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from uuid6 import uuid7

from services.enrollment.domain.pending_action import (
    ActionKind,
    ActionState,
    Standing,
    may_revert,
)
from services.enrollment.domain.review_state import ReviewState
from services.enrollment.domain.student_state import StudentState, is_frozen
from services.enrollment.models import School, Student, StudentHistory
from services.enrollment.models.pending_actions import PendingAction
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.records import summary_of
from services.enrollment.review_items import cancel
from shared.auth import Principal, Role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import StudentStatusChanged
from shared.workdays import WorkdayCalendar

log = logging.getLogger(__name__)

OPEN_REVIEW_STATES = (ReviewState.PENDING.value, ReviewState.RETURNED.value)


def _system(province: str) -> Principal:
    """Enrollment acting on check-in's report (an accepted appeal withdraws a change)."""
    return Principal(
        account_id="system:checkin-appeal",
        username="checkin-appeal",
        role=Role.PROVINCE,
        org=province,
        province=province,
    )


async def open_action(
    session: AsyncSession,
    *,
    kind: ActionKind,
    source_key: str,
    student: Student,
    term: str,
    title: str,
    detail: dict[str, Any],
    on: date,
    calendar: WorkdayCalendar,
    workdays: int,
    state: ActionState = ActionState.OPEN,
) -> str | None:
    """Insert the action unless one with this source exists; its id if inserted now. A closed
    placeholder (``workdays`` 0) is due the day it is written."""
    due_on, provisional = on, False
    if workdays > 0:
        deadline = calendar.add_workdays(on, workdays)
        due_on, provisional = deadline.due_on, deadline.provisional
    result = await session.execute(
        insert(PendingAction)
        .values(
            id=str(uuid7()),
            kind=kind.value,
            source_key=source_key,
            student_id=student.id,
            province_code=student.province_code,
            city_code=student.city_code,
            county_code=student.county_code,
            school_code=student.school_code,
            term=term,
            state=state.value,
            title=title,
            detail=detail,
            opened_on=on,
            due_on=due_on,
            due_provisional=provisional,
        )
        .on_conflict_do_nothing(constraint="pending_action_source")
        .returning(PendingAction.id)
    )
    return result.scalar_one_or_none()


def answered() -> Any:
    """SQL: the action has a status change under review (the school answered in time)."""
    # Its own alias: the lists also join the linked review, which must not be correlated here.
    linked = aliased(ReviewItem)
    return exists().where(linked.id == PendingAction.review_id, linked.state.in_(OPEN_REVIEW_STATES))


async def link_change(session: AsyncSession, action: PendingAction, review_id: str) -> None:
    action.review_id = review_id


async def resolve_by_change(session: AsyncSession, item: ReviewItem, after: Standing) -> None:
    """The approved status change ``item`` answers the actions linked to it: resolved, with what
    the change left the record as (a later appeal reverts only that)."""
    actions = await session.scalars(
        select(PendingAction)
        .where(PendingAction.review_id == item.id, PendingAction.state == ActionState.OPEN.value)
        .with_for_update()
    )
    for action in actions:
        action.state = ActionState.RESOLVED.value
        action.resolved_at = datetime.now(UTC)
        action.detail = {**action.detail, "after": {"status": after.status, "study_form": after.study_form}}


async def withdraw_prompt(
    uow: UnitOfWork,
    *,
    prompt_id: str,
    student: Student,
    appeal_id: str,
    term: str,
    on: date,
    calendar: WorkdayCalendar,
) -> None:
    """An accepted appeal: the prompt's action is closed; a change still under review is
    withdrawn (cancelled); a change already applied is reverted. A withdrawal that arrives
    before its prompt leaves a closed action, so the late prompt opens nothing."""
    session = uow.session
    action = await session.scalar(
        select(PendingAction)
        .where(PendingAction.kind == ActionKind.MISS_THRESHOLD.value, PendingAction.source_key == prompt_id)
        .with_for_update()
    )
    if action is None:
        await open_action(
            session,
            kind=ActionKind.MISS_THRESHOLD,
            source_key=prompt_id,
            student=student,
            term=term,
            title=f"{student.name} 未参加核验提示（申诉成立，已撤回）",
            detail={"appeal_id": appeal_id},
            on=on,
            calendar=calendar,
            workdays=0,
            state=ActionState.WITHDRAWN,
        )
        return
    if action.state == ActionState.WITHDRAWN.value:
        return
    was = action.state
    action.state = ActionState.WITHDRAWN.value
    action.withdrawn_by_appeal = appeal_id
    review = (
        await session.get(ReviewItem, action.review_id, with_for_update=True) if action.review_id else None
    )
    if review is None:
        return
    if was == ActionState.OPEN.value and review.state in OPEN_REVIEW_STATES:
        await cancel(uow, review, _system(student.province_code))
    elif was == ActionState.RESOLVED.value:
        action.reverted = await _revert(uow, action, review, student, appeal_id)


async def _revert(
    uow: UnitOfWork, action: PendingAction, review: ReviewItem, student: Student, appeal_id: str
) -> bool:
    """Put the record back as it was before the prompt's change, if it still stands as the change
    left it; the history says why and ``StudentStatusChanged`` announces the restored status."""
    after = action.detail.get("after") or {}
    before = review.payload.get("before") or {}
    locked = await uow.session.get(Student, student.id, with_for_update=True)
    assert locked is not None
    now = Standing(locked.status, locked.study_form)
    if not before or not may_revert(Standing(after.get("status", ""), after.get("study_form", "")), now):
        uow.session.add(
            _history(locked, f"申诉成立（申诉 {appeal_id}），但学籍此后已有其他变动，未自动恢复原状态")
        )
        log.warning("appeal %s accepted: record %s moved on since, not reverted", appeal_id, locked.id)
        return False
    from_status = locked.status
    locked.status = before["status"]
    locked.study_form = before["study_form"]
    locked.frozen = is_frozen(StudentState(locked.status))
    change = review.business_type.split(":", 1)[-1]
    uow.session.add(
        _history(
            locked,
            f"申诉成立（申诉 {appeal_id}）：撤销因未参加核验办理的学籍异动（审核 {review.id}），恢复原状态",
            action=f"status_change_reverted:{change}",
        )
    )
    await uow.session.flush()
    school = await uow.session.get(School, locked.school_code)
    assert school is not None
    uow.emit(
        StudentStatusChanged(
            student=summary_of(locked, school.name),
            change_type=f"revert:{change}",
            from_status=from_status,
            review_id=review.id,
        ),
        subject=locked.id,
    )
    return True


def _history(student: Student, detail: str, *, action: str = "appeal_accepted") -> StudentHistory:
    return StudentHistory(
        student_id=student.id,
        at=datetime.now(UTC),
        province=student.province_code,
        action=action,
        detail=detail,
    )


async def flag_overdue_actions(session: AsyncSession, on: date) -> list[PendingAction]:
    """Open actions past their deadline with no change under review, each flagged once (the
    superior bureau's overdue list shows them). Not committed."""
    rows = list(
        await session.scalars(
            select(PendingAction)
            .where(
                PendingAction.state == ActionState.OPEN.value,
                PendingAction.due_on < on,
                PendingAction.overdue_flagged_on.is_(None),
                or_(PendingAction.review_id.is_(None), ~answered()),
            )
            .with_for_update(skip_locked=True)
        )
    )
    for action in rows:
        action.overdue_flagged_on = on
    return rows
