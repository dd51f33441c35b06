from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain.account_state import (
    AccountState,
    StudentAccountAction,
    StudentEnrolled,
    StudentLeft,
    may_sign_in,
    transition,
)

STATES: list[AccountState | None] = [None, *AccountState]
actions = st.sampled_from([StudentEnrolled(), StudentLeft()])


def _run(start: AccountState | None, steps: list[StudentAccountAction]) -> AccountState | None:
    state = start
    for action in steps:
        state = transition(state, action)
    return state


def test_transition__registration_opens_a_not_activated_account() -> None:
    assert transition(None, StudentEnrolled()) is AccountState.NOT_ACTIVATED


def test_transition__returning_student_is_reopened_not_activated() -> None:
    assert transition(AccountState.DEACTIVATED, StudentEnrolled()) is AccountState.NOT_ACTIVATED


def test_transition__repeated_registration_keeps_an_activated_account_active() -> None:
    assert transition(AccountState.ACTIVE, StudentEnrolled()) is AccountState.ACTIVE


def test_transition__leaving_deactivates_from_any_state() -> None:
    for state in STATES:
        assert transition(state, StudentLeft()) is AccountState.DEACTIVATED


@given(st.sampled_from([s for s in STATES if s is not AccountState.ACTIVE]), st.lists(actions, max_size=12))
def test_transition__student_events_never_activate_an_account(
    start: AccountState | None, steps: list[StudentAccountAction]
) -> None:
    assert _run(start, steps) is not AccountState.ACTIVE


@given(st.sampled_from(STATES), st.lists(actions, min_size=1, max_size=12))
def test_transition__the_last_event_decides_whether_the_account_is_open(
    start: AccountState | None, steps: list[StudentAccountAction]
) -> None:
    final = _run(start, steps)
    if isinstance(steps[-1], StudentLeft):
        assert final is AccountState.DEACTIVATED
    else:
        assert final in (AccountState.ACTIVE, AccountState.NOT_ACTIVATED)


def test_may_sign_in__only_active_with_the_right_password() -> None:
    for state, matches in itertools.product(STATES, (True, False)):
        assert may_sign_in(state, matches) == (state is AccountState.ACTIVE and matches)
