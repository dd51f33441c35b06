"""A leave's life (domain/leave_request.py): requested → approved/rejected → ended."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.leave_request import (
    GRANTED,
    LeaveAction,
    LeaveSpan,
    LeaveState,
    TransitionNotAllowed,
    end_refusal,
    transition,
)


def test_transition__request_approve_end() -> None:
    assert transition(LeaveState.REQUESTED, LeaveAction.APPROVE) is LeaveState.APPROVED
    assert transition(LeaveState.APPROVED, LeaveAction.END) is LeaveState.ENDED


def test_transition__rejected_is_final() -> None:
    rejected = transition(LeaveState.REQUESTED, LeaveAction.REJECT)
    for action in LeaveAction:
        with pytest.raises(TransitionNotAllowed):
            transition(rejected, action)


def test_transition__a_request_cannot_be_ended_before_it_is_approved() -> None:
    with pytest.raises(TransitionNotAllowed, match="requested cannot be ended"):
        transition(LeaveState.REQUESTED, LeaveAction.END)


def test_transition__no_second_decision() -> None:
    with pytest.raises(TransitionNotAllowed):
        transition(LeaveState.APPROVED, LeaveAction.REJECT)
    with pytest.raises(TransitionNotAllowed):
        transition(LeaveState.APPROVED, LeaveAction.APPROVE)


@given(st.lists(st.sampled_from(list(LeaveAction)), max_size=8))
def test_transition__no_sequence_reaches_granted_without_an_approval(actions: list[LeaveAction]) -> None:
    state, approved = LeaveState.REQUESTED, False
    for action in actions:
        try:
            state = transition(state, action)
        except TransitionNotAllowed:
            continue
        approved = approved or action is LeaveAction.APPROVE
    assert (state in GRANTED) == approved
    assert state is not LeaveState.ENDED or approved


def test_end_refusal__inside_the_period_only() -> None:
    first, last = date(2026, 9, 1), date(2026, 9, 10)
    assert end_refusal(first, last, first) is None
    assert end_refusal(first, last, last) is None
    assert "before the leave starts" in (end_refusal(first, last, date(2026, 8, 31)) or "")
    assert "after the approved last day" in (end_refusal(first, last, date(2026, 9, 11)) or "")


def test_leave_span_overlaps__touching_days_overlap_adjacent_ones_do_not() -> None:
    a = LeaveSpan(date(2026, 9, 1), date(2026, 9, 5))
    assert a.overlaps(LeaveSpan(date(2026, 9, 5), date(2026, 9, 8)))
    assert not a.overlaps(LeaveSpan(date(2026, 9, 6), date(2026, 9, 8)))
    assert LeaveSpan(date(2026, 8, 1), date(2026, 8, 31)).overlaps(
        LeaveSpan(date(2026, 8, 30), date(2026, 9, 2))
    )
