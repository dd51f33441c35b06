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
    ending_on_transfer,
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


MOVED_ON = date(2026, 11, 20)


def test_ending_on_transfer__a_request_not_decided_is_cancelled() -> None:
    ending = ending_on_transfer(LeaveState.REQUESTED, date(2026, 11, 1), date(2026, 11, 2), MOVED_ON)
    assert ending is not None and (ending.state, ending.ended_on) == (LeaveState.CANCELLED, None)


def test_ending_on_transfer__a_leave_under_way_ends_on_the_day_of_the_move() -> None:
    ending = ending_on_transfer(LeaveState.APPROVED, date(2026, 11, 18), date(2026, 11, 24), MOVED_ON)
    assert ending is not None and (ending.state, ending.ended_on) == (LeaveState.ENDED, MOVED_ON)


def test_ending_on_transfer__a_leave_over_before_the_move_keeps_its_days() -> None:
    ending = ending_on_transfer(LeaveState.APPROVED, date(2026, 11, 1), date(2026, 11, 3), MOVED_ON)
    assert ending is not None and (ending.state, ending.ended_on) == (LeaveState.ENDED, date(2026, 11, 3))


def test_ending_on_transfer__a_leave_not_begun_is_cancelled() -> None:
    ending = ending_on_transfer(LeaveState.APPROVED, date(2026, 11, 21), date(2026, 11, 24), MOVED_ON)
    assert ending is not None and ending.state is LeaveState.CANCELLED
    assert ending.state not in GRANTED


@pytest.mark.parametrize("state", [LeaveState.REJECTED, LeaveState.ENDED, LeaveState.CANCELLED])
def test_ending_on_transfer__a_closed_leave_is_left_alone(state: LeaveState) -> None:
    assert ending_on_transfer(state, date(2026, 11, 18), date(2026, 11, 24), MOVED_ON) is None


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.integers(0, 180), st.sampled_from(list(LeaveState)))
def test_ending_on_transfer__an_ended_leave_always_passes_the_end_check(
    starts_on: date, length: int, state: LeaveState
) -> None:
    ends_on = date.fromordinal(starts_on.toordinal() + length)
    ending = ending_on_transfer(state, starts_on, ends_on, MOVED_ON)
    if ending is not None and ending.ended_on is not None:
        assert end_refusal(starts_on, ends_on, ending.ended_on) is None
