from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.round_lifecycle import (
    RoundAction,
    RoundState,
    RoundTimes,
    RoundTransitionNotAllowed,
    next_action,
    transition,
)

START = datetime(2031, 3, 2, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=10)
LEAD = timedelta(hours=2)
SETTLE = timedelta(minutes=30)


def due(state: RoundState, now: datetime, *, notified: bool = False, waiting: int = 0) -> RoundAction | None:
    return next_action(
        RoundTimes(state, START, END, notified, waiting), now, closing_lead=LEAD, settle=SETTLE
    )


def test_next_action__a_scheduled_round_waits_for_its_start() -> None:
    assert due(RoundState.SCHEDULED, START - timedelta(seconds=1)) is None
    assert due(RoundState.SCHEDULED, START) is RoundAction.OPEN


def test_next_action__the_closing_notice_goes_out_the_lead_time_before_the_end_once() -> None:
    assert due(RoundState.OPEN, END - LEAD - timedelta(seconds=1)) is None
    assert due(RoundState.OPEN, END - LEAD) is RoundAction.WARN_CLOSING
    assert due(RoundState.OPEN, END - LEAD, notified=True) is None


def test_next_action__an_open_round_closes_at_its_end() -> None:
    assert due(RoundState.OPEN, END, notified=True) is RoundAction.CLOSE
    # The notice never went out (the clock was down): closing is what is due, not a late notice.
    assert due(RoundState.OPEN, END + timedelta(hours=1)) is RoundAction.CLOSE


def test_next_action__closing_waits_for_face_results_but_not_for_ever() -> None:
    assert due(RoundState.OPEN, END, waiting=3) is None
    assert due(RoundState.OPEN, END + SETTLE - timedelta(seconds=1), waiting=3) is None
    assert due(RoundState.OPEN, END + SETTLE, waiting=3) is RoundAction.CLOSE


def test_next_action__a_round_found_overdue_opens_first() -> None:
    assert due(RoundState.SCHEDULED, END + timedelta(days=1)) is RoundAction.OPEN


def test_next_action__a_closed_round_has_nothing_due() -> None:
    assert due(RoundState.CLOSED, END + timedelta(days=30)) is None


def test_transition__only_the_moves_of_the_life() -> None:
    assert transition(RoundState.SCHEDULED, RoundAction.OPEN) is RoundState.OPEN
    assert transition(RoundState.OPEN, RoundAction.WARN_CLOSING) is RoundState.OPEN
    assert transition(RoundState.OPEN, RoundAction.CLOSE) is RoundState.CLOSED
    for state, action in [
        (RoundState.SCHEDULED, RoundAction.CLOSE),
        (RoundState.SCHEDULED, RoundAction.WARN_CLOSING),
        (RoundState.OPEN, RoundAction.OPEN),
        (RoundState.CLOSED, RoundAction.OPEN),
        (RoundState.CLOSED, RoundAction.CLOSE),
    ]:
        with pytest.raises(RoundTransitionNotAllowed):
            transition(state, action)


def due_now(state: RoundState, now: datetime, notified: bool) -> RoundAction | None:
    return due(state, now, notified=notified)


@given(st.lists(st.integers(min_value=0, max_value=20 * 3600), max_size=30))
def test_next_action__a_clock_ticking_at_any_moments_moves_each_step_once_in_order(
    offsets: list[int],
) -> None:
    """Whatever moments the clock looks at (in order), a round opens once, is warned at most
    once, closes once and only after its end, and nothing follows closing."""
    state, notified, taken = RoundState.SCHEDULED, False, []
    moments = sorted(START - timedelta(hours=1) + timedelta(seconds=s) for s in offsets)
    for now in [*moments, END + timedelta(days=1)]:
        while action := next_action(
            RoundTimes(state, START, END, notified), now, closing_lead=LEAD, settle=SETTLE
        ):
            state = transition(state, action)
            notified = notified or action is RoundAction.WARN_CLOSING
            taken.append((action, now))
    actions = [a for a, _ in taken]
    assert actions[0] is RoundAction.OPEN and actions[-1] is RoundAction.CLOSE
    assert actions.count(RoundAction.OPEN) == actions.count(RoundAction.CLOSE) == 1
    assert actions.count(RoundAction.WARN_CLOSING) <= 1
    assert all(now >= START for _, now in taken)
    assert all(now >= END for a, now in taken if a is RoundAction.CLOSE)
    assert all(END - LEAD <= now < END for a, now in taken if a is RoundAction.WARN_CLOSING)
