"""A round's life: scheduled → open → closed, on its own clock (DOMAIN.md "Registration rounds":
"rounds open and close automatically"; seed 000: "到期功能自动开启或关闭"; seed 001 三.4: the
system notifies the school registrar, counselors and students when a round is published, and
"到达限定时间，此次核验截止").

The clock (services/checkin/round_clock.py) asks ``next_action`` what is due for a round at
``now`` and applies it with ``transition``; this module decides, the clock does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class RoundState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class RoundAction(StrEnum):
    OPEN = "open"  # starts_at reached: RoundOpened
    WARN_CLOSING = "warn_closing"  # the lead time before ends_at reached: RoundClosing, once
    CLOSE = "close"  # ends_at reached and check-ins settled: misses recorded, RoundClosed


class RoundTransitionNotAllowed(Exception):
    def __init__(self, state: RoundState, action: RoundAction) -> None:
        super().__init__(f"a {state.value} round cannot {action.value}")
        self.state = state
        self.action = action


_MOVES: dict[tuple[RoundState, RoundAction], RoundState] = {
    (RoundState.SCHEDULED, RoundAction.OPEN): RoundState.OPEN,
    (RoundState.OPEN, RoundAction.WARN_CLOSING): RoundState.OPEN,
    (RoundState.OPEN, RoundAction.CLOSE): RoundState.CLOSED,
}


def transition(state: RoundState, action: RoundAction) -> RoundState:
    """The state after ``action``; raises ``RoundTransitionNotAllowed`` for any other move."""
    try:
        return _MOVES[(state, action)]
    except KeyError:
        raise RoundTransitionNotAllowed(state, action) from None


@dataclass(frozen=True)
class RoundTimes:
    """What the clock knows of a round."""

    state: RoundState
    starts_at: datetime
    ends_at: datetime
    closing_notified: bool
    undecided_check_ins: int = 0  # attempts still waiting for their face result


def next_action(
    round: RoundTimes, now: datetime, *, closing_lead: timedelta, settle: timedelta
) -> RoundAction | None:
    """What is due for ``round`` at ``now``, if anything; one step at a time (a round found
    long overdue opens first and closes on the next step, so its audience hears both).

    - The closing notice goes out once, ``closing_lead`` before the end; a round shorter than
      the lead gets it right after opening. A round whose end has passed gets no notice: it
      would arrive after the fact (the clock was down), and closing says all there is to say.
    - Closing waits while attempts accepted inside the round still wait for their face result
      — an attempt made in time is judged — but at most ``settle`` past the end; then a face
      check that never answered is a missed round, not a round left open for ever.
    """
    if round.state is RoundState.SCHEDULED:
        return RoundAction.OPEN if now >= round.starts_at else None
    if round.state is RoundState.OPEN:
        if now >= round.ends_at:
            if round.undecided_check_ins > 0 and now < round.ends_at + settle:
                return None
            return RoundAction.CLOSE
        if not round.closing_notified and now >= round.ends_at - closing_lead:
            return RoundAction.WARN_CLOSING
    return None
