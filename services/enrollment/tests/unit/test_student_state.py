from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.student_state import (
    StudentAction,
    StudentState,
    TransitionNotAllowed,
    is_frozen,
    may_transfer_out,
    transition,
)
from shared.events.common import StudentStatus


def test_student_state__matches_the_event_contract() -> None:
    assert {s.value for s in StudentState} == set(get_args(StudentStatus))


# The statuses some kind admits: 跨省转学 (seed 002 §18) and 毕业后跨省就学 (§19, graduated).
_RELEASABLE = {
    StudentState.IN_SCHOOL,
    StudentState.ON_LEAVE,
    StudentState.LEFT_WITHOUT_COMPLETING,
    StudentState.DROPOUT,
    StudentState.ABROAD,
    StudentState.WITHDRAWN,
    StudentState.GRADUATED,
}


@pytest.mark.parametrize("state", list(StudentState))
def test_may_transfer_out__the_statuses_some_kind_admits(state: StudentState) -> None:
    assert may_transfer_out(state) is (state in _RELEASABLE)


@pytest.mark.parametrize("state", list(StudentState))
def test_transition__a_move_inside_the_province_keeps_a_studying_status(state: StudentState) -> None:
    if state in {StudentState.IN_SCHOOL, StudentState.ON_LEAVE}:
        assert transition(state, StudentAction.MOVE_SCHOOL) is state
    else:
        with pytest.raises(TransitionNotAllowed):
            transition(state, StudentAction.MOVE_SCHOOL)


def test_transition__transfer_out_freezes_the_record() -> None:
    after = transition(StudentState.IN_SCHOOL, StudentAction.TRANSFER_OUT)
    assert after is StudentState.TRANSFERRED_OUT
    assert is_frozen(after)


def test_transition__transfer_out_twice_is_refused() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(StudentState.TRANSFERRED_OUT, StudentAction.TRANSFER_OUT)
    assert refused.value.state is StudentState.TRANSFERRED_OUT


def test_transition__back_in_after_leaving() -> None:
    assert transition(StudentState.TRANSFERRED_OUT, StudentAction.TRANSFER_BACK_IN) is StudentState.IN_SCHOOL


def test_transition__back_in_while_in_school_is_refused() -> None:
    with pytest.raises(TransitionNotAllowed):
        transition(StudentState.IN_SCHOOL, StudentAction.TRANSFER_BACK_IN)


_GRADUATION_OUTCOMES = {
    StudentAction.GRADUATE: StudentState.GRADUATED,
    StudentAction.COMPLETE: StudentState.COMPLETED,
    StudentAction.LEAVE_WITHOUT_COMPLETING: StudentState.LEFT_WITHOUT_COMPLETING,
}


@pytest.mark.parametrize("action", list(_GRADUATION_OUTCOMES))
@pytest.mark.parametrize("state", list(StudentState))
def test_transition__only_a_student_who_studies_graduates(state: StudentState, action: StudentAction) -> None:
    """In school or on a short leave; never suspended (graduates after resuming) nor an ended
    or released record."""
    if state in {StudentState.IN_SCHOOL, StudentState.ON_LEAVE}:
        assert transition(state, action) is _GRADUATION_OUTCOMES[action]
    else:
        with pytest.raises(TransitionNotAllowed):
            transition(state, action)


@pytest.mark.parametrize("state", list(StudentState))
def test_transition__a_rollback_returns_a_graduate_to_school(state: StudentState) -> None:
    if state in set(_GRADUATION_OUTCOMES.values()):
        assert transition(state, StudentAction.ROLL_BACK_GRADUATION) is StudentState.IN_SCHOOL
    else:
        with pytest.raises(TransitionNotAllowed):
            transition(state, StudentAction.ROLL_BACK_GRADUATION)


_TRANSFER_ACTIONS = [StudentAction.TRANSFER_OUT, StudentAction.TRANSFER_BACK_IN]


# Transfers alone move a record between in school and transferred out; status changes (issue 3)
# reach the other statuses and are covered in test_status_change.py.
@given(st.lists(st.sampled_from(_TRANSFER_ACTIONS), max_size=30))
def test_transition__no_action_sequence_leaves_in_school_or_transferred_out(
    actions: list[StudentAction],
) -> None:
    state = StudentState.IN_SCHOOL
    for action in actions:
        try:
            state = transition(state, action)
        except TransitionNotAllowed:
            continue
        # Only a released record is frozen; a record here is always editable.
        assert is_frozen(state) is (state is StudentState.TRANSFERRED_OUT)
    assert state in {StudentState.IN_SCHOOL, StudentState.TRANSFERRED_OUT}


@given(st.lists(st.sampled_from(list(StudentAction)), max_size=30))
def test_transition__only_a_released_record_is_frozen(actions: list[StudentAction]) -> None:
    state = StudentState.IN_SCHOOL
    for action in actions:
        try:
            state = transition(state, action)
        except TransitionNotAllowed:
            continue
        assert is_frozen(state) is (state is StudentState.TRANSFERRED_OUT)
