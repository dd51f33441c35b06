"""The problem-record state machine (DOMAIN.md "Problem records"; seed 002 问题学籍管理)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.problem_record_state import (
    TRANSITIONS,
    Act,
    Arbitrate,
    Choice,
    ConfirmIdentity,
    Move,
    ProblemKind,
    ProblemRecordState,
    RejectIdentity,
    Resolution,
    Side,
    TransitionNotAllowed,
    allowed_moves,
    restarts_deadline,
    side_to_act,
    transition,
)

S = ProblemRecordState
DUP = ProblemKind.DUPLICATE_ID
IDC = ProblemKind.IDENTITY_CHECK_FAILED
FIRST, SECOND = Side.FIRST, Side.SECOND

ALL_MOVES: list[Move] = [
    *(Act(side, choice) for side in Side for choice in Choice),
    *(Arbitrate(side) for side in Side),
    ConfirmIdentity(),
    RejectIdentity(),
]


def _run(kind: ProblemKind, moves: list[Move]) -> ProblemRecordState:
    state = S.OPEN
    for move in moves:
        state = transition(kind, state, move).state
    return state


def test_transition__first_side_acts_first() -> None:
    assert side_to_act(DUP, S.OPEN) is FIRST
    with pytest.raises(TransitionNotAllowed):
        transition(DUP, S.OPEN, Act(SECOND, Choice.EVIDENCE))


@pytest.mark.parametrize(
    ("choice", "resolution"), [(Choice.CHANGE, "first_changed"), (Choice.DELETE, "first_deleted")]
)
def test_transition__change_or_delete_ends_the_case(choice: Choice, resolution: str) -> None:
    outcome = transition(DUP, S.OPEN, Act(FIRST, choice))
    assert outcome.state is S.RESOLVED and outcome.resolution == Resolution(resolution)


def test_transition__evidence_passes_the_case_to_the_other_side() -> None:
    assert _run(DUP, [Act(FIRST, Choice.EVIDENCE)]) is S.AWAITING_SECOND
    assert side_to_act(DUP, S.AWAITING_SECOND) is SECOND
    with pytest.raises(TransitionNotAllowed):
        transition(DUP, S.AWAITING_SECOND, Act(FIRST, Choice.DELETE))


def test_transition__both_evidence_goes_to_arbitration_and_the_loser_may_only_fix() -> None:
    state = _run(DUP, [Act(FIRST, Choice.EVIDENCE), Act(SECOND, Choice.EVIDENCE)])
    assert state is S.AWAITING_ARBITRATION and side_to_act(DUP, state) is None
    state = transition(DUP, state, Arbitrate(winner=SECOND)).state
    assert state is S.FIRST_MUST_FIX
    with pytest.raises(TransitionNotAllowed):
        transition(DUP, state, Act(FIRST, Choice.EVIDENCE))
    with pytest.raises(TransitionNotAllowed):
        transition(DUP, state, Act(SECOND, Choice.CHANGE))
    assert transition(DUP, state, Act(FIRST, Choice.CHANGE)).resolution is Resolution.FIRST_CHANGED


def test_transition__identity_case_evidence_then_county_confirms_or_returns() -> None:
    assert _run(IDC, [Act(FIRST, Choice.EVIDENCE), RejectIdentity()]) is S.OPEN
    outcome = transition(IDC, S.AWAITING_CONFIRMATION, ConfirmIdentity())
    assert outcome == transition(IDC, _run(IDC, [Act(FIRST, Choice.EVIDENCE)]), ConfirmIdentity())
    assert outcome.resolution is Resolution.IDENTITY_CONFIRMED
    for refused in (Act(FIRST, Choice.DELETE), Act(SECOND, Choice.EVIDENCE), Arbitrate(FIRST)):
        with pytest.raises(TransitionNotAllowed):
            transition(IDC, S.OPEN, refused)


def test_transition__resolved_is_final() -> None:
    for kind in ProblemKind:
        for move in ALL_MOVES:
            with pytest.raises(TransitionNotAllowed):
                transition(kind, S.RESOLVED, move)


def test_restarts_deadline__on_hand_over_not_at_the_end() -> None:
    assert restarts_deadline(S.OPEN, S.AWAITING_SECOND)
    assert not restarts_deadline(S.OPEN, S.RESOLVED)


@given(kind=st.sampled_from(list(ProblemKind)), moves=st.lists(st.sampled_from(ALL_MOVES), max_size=12))
def test_transition__no_sequence_reaches_an_illegal_state(kind: ProblemKind, moves: list[Move]) -> None:
    """Whatever anyone tries, in any order: refused moves change nothing, arbitration needs both
    sides' evidence, a loser never gives evidence, and a resolved case stays resolved."""
    state, applied = S.OPEN, list[Move]()
    for move in moves:
        try:
            outcome = transition(kind, state, move)
        except TransitionNotAllowed:
            continue
        if isinstance(move, Act):
            assert move.side is side_to_act(kind, state)  # only the side whose turn it is
            if state in (S.FIRST_MUST_FIX, S.SECOND_MUST_FIX):
                assert move.choice is not Choice.EVIDENCE
        if outcome.state is S.AWAITING_ARBITRATION:
            assert [*applied, move] == [Act(FIRST, Choice.EVIDENCE), Act(SECOND, Choice.EVIDENCE)]
        if isinstance(move, Arbitrate):
            assert kind is DUP and state is S.AWAITING_ARBITRATION
        assert state is not S.RESOLVED
        assert (outcome.state is S.RESOLVED) == (outcome.resolution is not None)
        applied.append(move)
        state = outcome.state
    assert state in {at for (at, _) in TRANSITIONS[kind]} | {S.RESOLVED}
    # A duplicate case ends within four moves of its own: act, act, arbitrate, fix.
    assert len(applied) <= (4 if kind is DUP else len(moves))


@given(kind=st.sampled_from(list(ProblemKind)), data=st.data())
def test_transition__walks_along_allowed_moves_always_end_or_wait_for_someone(
    kind: ProblemKind, data: st.DataObject
) -> None:
    """Walks that mostly take allowed moves reach deep states; in every state reached someone
    (a side or a bureau) can move, until the case is resolved."""
    state = S.OPEN
    for _ in range(8):
        moves = allowed_moves(kind, state)
        if state is S.RESOLVED:
            assert moves == []
            break
        assert moves, f"{kind.value} case stuck in {state.value}"
        if side_to_act(kind, state) is None:
            assert all(not isinstance(m, Act) for m in moves)  # a bureau's turn
        state = transition(kind, state, data.draw(st.sampled_from(moves))).state
