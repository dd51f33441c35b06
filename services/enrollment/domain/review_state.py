"""One review item's life (DOMAIN.md "Enrollment": the review chain; "Status changes": 10
working days per level), whatever the business it reviews.

An item climbs its chain one level at a time. A rejection at any level returns it to the
registrar with the reason; the registrar edits it and resubmits, and it starts again at the
bottom of the chain (a change after rejection must be seen by every level again). The registrar
may cancel it until it is approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.enrollment.domain.approval_chain import ReviewLevel
from shared.workdays import Deadline, WorkdayCalendar

STEP_WORKDAYS = 10  # DOMAIN.md "Status changes": each reviewing level has 10 working days


class ReviewState(StrEnum):
    PENDING = "pending"  # waiting for the level at ``step``
    RETURNED = "returned"  # rejected: back with the registrar, editable
    APPROVED = "approved"  # every level approved; the business effect has been applied
    CANCELLED = "cancelled"


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Position:
    state: ReviewState
    step: int  # index into the chain of the level that decides next


class ReviewNotAllowed(Exception):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


def transition(position: Position, action: ReviewAction, chain: Sequence[str]) -> Position:
    """The next position; raises ``ReviewNotAllowed`` for a move the state does not allow."""
    state, step = position.state, position.step
    if state is ReviewState.PENDING and action is ReviewAction.APPROVE:
        if step + 1 >= len(chain):
            return Position(ReviewState.APPROVED, step)
        return Position(ReviewState.PENDING, step + 1)
    if state is ReviewState.PENDING and action is ReviewAction.REJECT:
        return Position(ReviewState.RETURNED, step)
    if state is ReviewState.RETURNED and action is ReviewAction.RESUBMIT:
        return Position(ReviewState.PENDING, 0)
    if state in (ReviewState.PENDING, ReviewState.RETURNED) and action is ReviewAction.CANCEL:
        return Position(ReviewState.CANCELLED, step)
    raise ReviewNotAllowed(
        f"an item that is {state.value} cannot be {action.value}d",
        f"当前状态（{_STATE_ZH[state]}）不能{_ACTION_ZH[action]}",
    )


_STATE_ZH = {
    ReviewState.PENDING: "待审核",
    ReviewState.RETURNED: "已退回",
    ReviewState.APPROVED: "已通过",
    ReviewState.CANCELLED: "已撤销",
}
_ACTION_ZH = {
    ReviewAction.APPROVE: "审核通过",
    ReviewAction.REJECT: "退回",
    ReviewAction.RESUBMIT: "重新提交",
    ReviewAction.CANCEL: "撤销",
}


def is_reviewer_of(level: ReviewLevel, role_level: str) -> bool:
    """A level is decided by the account of that level: a school's by its leader (学籍主管领导)."""
    return level == role_level


def step_deadline(started_on: date, calendar: WorkdayCalendar) -> Deadline:
    """The day a step must be decided by: 10 Chinese working days after it reached the level."""
    return calendar.add_workdays(started_on, STEP_WORKDAYS)


def is_overdue(due_on: date, today: date) -> bool:
    """Overdue the day after the deadline: the deadline day itself is still in time."""
    return today > due_on


def batch_summary(done: int, skipped: Sequence[str], *, verb: str = "通过") -> str:
    """The answer to a batch review ("全部审核"): "N 条通过，M 条跳过（原因）", reasons grouped."""
    text = f"{done} 条{verb}，{len(skipped)} 条跳过"
    if not skipped:
        return text
    counts: dict[str, int] = {}
    for reason in skipped:
        counts[reason] = counts.get(reason, 0) + 1
    reasons = "；".join(reason if n == 1 else f"{reason} ×{n}" for reason, n in counts.items())
    return f"{text}（{reasons}）"
