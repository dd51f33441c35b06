"""A leave request's life (DOMAIN.md "Registration rounds and routine verification"; seed 001
三.5 "学生可利用“职校家园 APP”请假和销假，学校管理员和学生辅导员（班主任）对学生请假批准后，学生学籍
处于请假状态"): the student asks; the counselor or the school registrar approves or rejects with
an opinion; an approved leave is ended (销假) when the student is back, early or on time.

requested ─approve→ approved ─end→ ended
    └─reject→ rejected

A transfer to another school (DOMAIN.md "Transfers": leave starts anew at the destination from
the moment of the move) ends what is open at the old school: a request not decided, or a leave
not yet begun, is cancelled; a leave under way ends on the day of the move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class LeaveState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ENDED = "ended"
    CANCELLED = "cancelled"  # by a transfer: never taken


# Why a transfer ended a leave (shown as it is, beside the state).
ENDED_BY_TRANSFER = "转学"


class LeaveAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    END = "end"


_TRANSITIONS: dict[tuple[LeaveState, LeaveAction], LeaveState] = {
    (LeaveState.REQUESTED, LeaveAction.APPROVE): LeaveState.APPROVED,
    (LeaveState.REQUESTED, LeaveAction.REJECT): LeaveState.REJECTED,
    (LeaveState.APPROVED, LeaveAction.END): LeaveState.ENDED,
}

# Leave that takes days off the term's allowance and exempts from rounds.
GRANTED = frozenset({LeaveState.APPROVED, LeaveState.ENDED})
# Leave a new request may not overlap: asked for or granted (a rejected one is gone).
STANDING = frozenset({LeaveState.REQUESTED, LeaveState.APPROVED, LeaveState.ENDED})


class TransitionNotAllowed(Exception):
    def __init__(self, state: LeaveState, action: LeaveAction) -> None:
        super().__init__(f"a leave that is {state.value} cannot be {_PAST[action]}")
        self.state = state
        self.action = action


_PAST = {LeaveAction.APPROVE: "approved", LeaveAction.REJECT: "rejected", LeaveAction.END: "ended"}


def transition(state: LeaveState, action: LeaveAction) -> LeaveState:
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


@dataclass(frozen=True)
class LeaveSpan:
    """The days a leave covers, both ends inclusive."""

    first: date
    last: date

    def overlaps(self, other: LeaveSpan) -> bool:
        return self.first <= other.last and other.first <= self.last


def taken_span(starts_on: date, ends_on: date, ended_on: date | None) -> LeaveSpan:
    """The days actually away: an early 销假 cuts the leave at ``ended_on`` (the last day away);
    ending "late" never lengthens it past what was approved."""
    last = ends_on if ended_on is None else min(ends_on, ended_on)
    return LeaveSpan(starts_on, last)


def end_refusal(starts_on: date, ends_on: date, ended_on: date) -> str | None:
    """None if ``ended_on`` may close the leave, else why not. The last day away lies inside
    the approved period: one ending before it started was never taken (reject it instead)."""
    if ended_on < starts_on:
        return f"ended_on {ended_on} is before the leave starts ({starts_on})"
    if ended_on > ends_on:
        return f"ended_on {ended_on} is after the approved last day ({ends_on})"
    return None


@dataclass(frozen=True)
class LeaveEnding:
    state: LeaveState
    ended_on: date | None


def ending_on_transfer(
    state: LeaveState, starts_on: date, ends_on: date, moved_on: date
) -> LeaveEnding | None:
    """What a move to another school on ``moved_on`` makes of a leave; None if it is closed
    already. The day of the move is the last day the old school's leave can cover."""
    if state is LeaveState.REQUESTED or (state is LeaveState.APPROVED and starts_on > moved_on):
        return LeaveEnding(LeaveState.CANCELLED, None)
    if state is LeaveState.APPROVED:
        return LeaveEnding(LeaveState.ENDED, min(ends_on, moved_on))
    return None
