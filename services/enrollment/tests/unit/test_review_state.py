"""A review item's life: climbs its chain, returns to the registrar, 10 working days per step."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.review_state import (
    Position,
    ReviewAction,
    ReviewNotAllowed,
    ReviewState,
    batch_summary,
    is_overdue,
    step_deadline,
    transition,
)
from shared.workdays import WorkdayCalendar

CHAIN = ("school", "county", "province")
START = Position(ReviewState.PENDING, 0)


def test_transition__approvals_climb_then_approve() -> None:
    p = transition(START, ReviewAction.APPROVE, CHAIN)
    assert p == Position(ReviewState.PENDING, 1)
    p = transition(transition(p, ReviewAction.APPROVE, CHAIN), ReviewAction.APPROVE, CHAIN)
    assert p.state is ReviewState.APPROVED


def test_transition__reject_returns_and_resubmit_starts_at_the_bottom() -> None:
    p = transition(Position(ReviewState.PENDING, 2), ReviewAction.REJECT, CHAIN)
    assert p.state is ReviewState.RETURNED
    assert transition(p, ReviewAction.RESUBMIT, CHAIN) == START


def test_transition__approved_item_cannot_be_cancelled() -> None:
    with pytest.raises(ReviewNotAllowed) as raised:
        transition(Position(ReviewState.APPROVED, 2), ReviewAction.CANCEL, CHAIN)
    assert "已通过" in raised.value.reason_zh


@given(st.lists(st.sampled_from(list(ReviewAction)), max_size=30), st.integers(1, 4))
def test_transition__no_sequence_reaches_an_illegal_position(actions: list[ReviewAction], n: int) -> None:
    chain = CHAIN[:n] if n <= 3 else ("school", "county", "city", "province")
    position = START
    approvals_since_start = 0
    for action in actions:
        try:
            position = transition(position, action, chain)
        except ReviewNotAllowed:
            continue
        if action is ReviewAction.APPROVE:
            approvals_since_start += 1
        if action is ReviewAction.RESUBMIT:
            approvals_since_start = 0
        assert 0 <= position.step < len(chain)
        # Approved only after every level of the chain approved since the last (re)submission.
        if position.state is ReviewState.APPROVED:
            assert approvals_since_start == len(chain)
    if position.state in (ReviewState.APPROVED, ReviewState.CANCELLED):
        for action in ReviewAction:
            with pytest.raises(ReviewNotAllowed):
                transition(position, action, chain)


def test_step_deadline__ten_working_days_over_national_day() -> None:
    # 2026-09-30 (Wed): 1–7 Oct are holidays (8 Oct is a workday in 2026's schedule, Sun 27 Sep
    # and Sat 10 Oct are adjusted workdays).
    from shared.workdays import days_from_chinesecalendar

    calendar = WorkdayCalendar(days_from_chinesecalendar([2026]), [2026])
    deadline = step_deadline(date(2026, 9, 30), calendar)
    assert calendar.workdays_between(date(2026, 9, 30), deadline.due_on) == 10
    assert deadline.due_on > date(2026, 10, 14)  # at least the holiday week later than Mon–Fri
    assert not deadline.provisional


def test_step_deadline__unconfirmed_year_is_provisional() -> None:
    # Sunday 2 Mar 2031, no confirmed year: Monday–Friday, two working weeks → Friday 14 Mar.
    deadline = step_deadline(date(2031, 3, 2), WorkdayCalendar([], []))
    assert deadline.provisional and deadline.due_on == date(2031, 3, 14)


def test_is_overdue__deadline_day_is_in_time() -> None:
    assert not is_overdue(date(2026, 12, 1), date(2026, 12, 1))
    assert is_overdue(date(2026, 12, 1), date(2026, 12, 2))


def test_batch_summary__counts_and_grouped_reasons() -> None:
    assert batch_summary(3, []) == "3 条通过，0 条跳过"
    text = batch_summary(2, ["不在本级待审核", "学籍状态不允许", "不在本级待审核"])
    assert text == "2 条通过，3 条跳过（不在本级待审核 ×2；学籍状态不允许）"
    assert batch_summary(1, [], verb="退回") == "1 条退回，0 条跳过"
