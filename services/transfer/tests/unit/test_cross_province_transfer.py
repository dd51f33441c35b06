from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from services.transfer.domain.cross_province_transfer import (
    OPEN_STATES,
    STATE_LABELS,
    TERMINAL_STATES,
    Action,
    Approve,
    Cancel,
    CaseLineage,
    CrossProvinceTransferState,
    OrgLineage,
    RecordsMoved,
    Reject,
    ReviewLevel,
    Side,
    TransitionNotAllowed,
    may_cancel,
    may_review,
    pending_level,
    side_of,
    state_pending,
    transition,
)
from shared.auth import Role

S = CrossProvinceTransferState
L = ReviewLevel
CHAIN = [L.DEST_SCHOOL, L.DEST_BUREAU, L.ORIGIN_SCHOOL, L.ORIGIN_BUREAU]

LINEAGE = CaseLineage(
    destination=OrgLineage("41", "4101", "410102", "4141010001"),
    origin=OrgLineage("37", "3701", "370102", "3737010001"),
)

checks = st.sampled_from([None, True, False])
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Approve, st.sampled_from(list(L)), checks, checks),
    st.builds(Reject, st.sampled_from([None, *L])),
    st.just(Cancel()),
    st.just(RecordsMoved()),
)


def approve(level: ReviewLevel) -> Approve:
    return Approve(level, origin_checked=True, destination_checked=True)


def run(actions: list[Action]) -> CrossProvinceTransferState:
    """Apply what is allowed, skip what is refused."""
    state = S.APPLIED
    for action in actions:
        try:
            state = transition(state, action)
        except TransitionNotAllowed:
            continue
    return state


def test_transition__the_happy_path_reaches_completed() -> None:
    state = S.APPLIED
    seen = [state]
    for level in CHAIN:
        assert pending_level(state) is level
        state = transition(state, approve(level))
        seen.append(state)
    assert pending_level(state) is None
    assert transition(state, RecordsMoved()) is S.COMPLETED
    assert seen == [
        S.APPLIED,
        S.DEST_SCHOOL_APPROVED,
        S.SENT_TO_ORIGIN,
        S.ORIGIN_SCHOOL_APPROVED,
        S.ORIGIN_APPROVED,
    ]


def progress(state: CrossProvinceTransferState) -> Action:
    """The move that takes a case forward from ``state`` (so random walks get far)."""
    level = pending_level(state)
    return approve(level) if level is not None else RecordsMoved()


@given(st.data())
def test_transition__no_sequence_completes_without_all_four_approvals(data: st.DataObject) -> None:
    state, accepted = S.APPLIED, list[Action]()
    for _ in range(data.draw(st.integers(0, 20), label="length")):
        # Half the time the move that progresses, else anything: walks reach every state.
        action = data.draw(st.one_of(st.just(progress(state)), actions), label="action")
        try:
            state = transition(state, action)
        except TransitionNotAllowed:
            continue
        accepted.append(action)
    event(f"ends {state.value}")
    if state is S.COMPLETED:
        assert [a.level for a in accepted if isinstance(a, Approve)] == CHAIN
        assert isinstance(accepted[-1], RecordsMoved)


def test_transition__exhaustively_completed_only_through_the_four_approvals() -> None:
    """Every reachable (state, approvals so far) pair, by breadth-first search over all actions."""
    every_action: list[Action] = [
        *(Approve(level, o, d) for level in L for o in (None, True, False) for d in (None, True, False)),
        *(Reject(level) for level in (None, *L)),
        Cancel(),
        RecordsMoved(),
    ]
    start: tuple[CrossProvinceTransferState, tuple[ReviewLevel, ...]] = (S.APPLIED, ())
    seen, frontier = {start}, [start]
    while frontier:
        state, approved = frontier.pop()
        for action in every_action:
            try:
                after = transition(state, action)
            except TransitionNotAllowed:
                continue
            node = (after, (*approved, action.level) if isinstance(action, Approve) else approved)
            if node not in seen:
                seen.add(node)
                frontier.append(node)
    assert {approved for state, approved in seen if state is S.COMPLETED} == {tuple(CHAIN)}
    assert {state for state, _ in seen} == set(S)


@given(st.sampled_from(sorted(TERMINAL_STATES)), actions)
def test_transition__terminal_states_accept_nothing(
    state: CrossProvinceTransferState, action: Action
) -> None:
    with pytest.raises(TransitionNotAllowed):
        transition(state, action)


@given(st.lists(actions, max_size=30))
def test_transition__cancel_after_origin_approved_is_always_refused(sequence: list[Action]) -> None:
    state = run([*(approve(level) for level in CHAIN), *sequence])
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(state, Cancel())
    assert refused.value.reason and refused.value.reason_zh


@pytest.mark.parametrize(
    "state", [S.APPLIED, S.DEST_SCHOOL_APPROVED, S.SENT_TO_ORIGIN, S.ORIGIN_SCHOOL_APPROVED]
)
def test_transition__cancel_before_records_move(state: CrossProvinceTransferState) -> None:
    assert transition(state, Cancel()) is S.CANCELLED


@given(st.sampled_from(sorted(OPEN_STATES)), st.sampled_from(list(L)))
def test_transition__only_the_pending_level_may_approve_or_reject(
    state: CrossProvinceTransferState, level: ReviewLevel
) -> None:
    if pending_level(state) is level:
        assert transition(state, approve(level)) is not state
        assert transition(state, Reject(level)) is S.REJECTED
    else:
        for action in (approve(level), Reject(level)):
            with pytest.raises(TransitionNotAllowed):
                transition(state, action)


@pytest.mark.parametrize(
    ("origin", "destination"),
    [(None, True), (True, None), (False, True), (True, False), (None, None)],
)
def test_transition__dest_school_needs_both_checks_passed(
    origin: bool | None, destination: bool | None
) -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(S.APPLIED, Approve(L.DEST_SCHOOL, origin_checked=origin, destination_checked=destination))
    assert "check" in refused.value.reason
    assert "核验" in refused.value.reason_zh


def test_transition__dest_school_may_reject_before_the_checks() -> None:
    assert transition(S.APPLIED, Reject(L.DEST_SCHOOL)) is S.REJECTED


def test_transition__a_failed_check_rejects_only_before_any_review() -> None:
    assert transition(S.APPLIED, Reject()) is S.REJECTED
    with pytest.raises(TransitionNotAllowed):
        transition(S.DEST_SCHOOL_APPROVED, Reject())


def test_transition__records_move_only_after_the_origin_approves() -> None:
    for state in OPEN_STATES - {S.ORIGIN_APPROVED}:
        with pytest.raises(TransitionNotAllowed):
            transition(state, RecordsMoved())


def test_state_labels__every_state_has_its_platform_label() -> None:
    assert set(STATE_LABELS) == set(S)
    assert STATE_LABELS[S.COMPLETED] == "调档完毕"


def test_state_pending__inverts_pending_level() -> None:
    for level in L:
        assert pending_level(state_pending(level)) is level


@pytest.mark.parametrize(
    ("role", "org", "province", "level", "allowed"),
    [
        (Role.SCHOOL_LEADER, "4141010001", "41", L.DEST_SCHOOL, True),
        (Role.SCHOOL_REGISTRAR, "4141010001", "41", L.DEST_SCHOOL, True),
        (Role.COUNSELOR, "4141010001", "41", L.DEST_SCHOOL, False),
        (Role.SCHOOL_LEADER, "4141010002", "41", L.DEST_SCHOOL, False),
        (Role.COUNTY, "410102", "41", L.DEST_BUREAU, True),
        (Role.COUNTY, "410103", "41", L.DEST_BUREAU, False),
        (Role.CITY, "4101", "41", L.DEST_BUREAU, False),
        (Role.COUNTY, "410102", "41", L.DEST_SCHOOL, False),
        (Role.SCHOOL_REGISTRAR, "3737010001", "37", L.ORIGIN_SCHOOL, True),
        (Role.SCHOOL_LEADER, "3737010001", "41", L.ORIGIN_SCHOOL, False),
        (Role.COUNTY, "370102", "37", L.ORIGIN_BUREAU, True),
        (Role.COUNTY, "410102", "41", L.ORIGIN_BUREAU, False),
        (Role.PROVINCE, "37", "37", L.ORIGIN_BUREAU, False),
    ],
)
def test_may_review__school_levels_by_the_school_bureau_levels_by_its_county(
    role: Role, org: str, province: str, level: ReviewLevel, allowed: bool
) -> None:
    assert may_review(role, org, province, level, LINEAGE) is allowed


def test_may_review__origin_levels_need_the_origin_lineage() -> None:
    unknown_origin = CaseLineage(LINEAGE.destination, OrgLineage("37", None, None, None))
    assert not may_review(Role.SCHOOL_LEADER, "3737010001", "37", L.ORIGIN_SCHOOL, unknown_origin)
    assert not may_review(Role.COUNTY, "370102", "37", L.ORIGIN_BUREAU, unknown_origin)


def test_may_cancel__only_the_destination_school_registrar() -> None:
    assert may_cancel(Role.SCHOOL_REGISTRAR, "4141010001", "41", LINEAGE)
    assert not may_cancel(Role.SCHOOL_LEADER, "4141010001", "41", LINEAGE)
    assert not may_cancel(Role.SCHOOL_REGISTRAR, "3737010001", "37", LINEAGE)
    assert not may_cancel(Role.COUNTY, "410102", "41", LINEAGE)


def test_side_of__destination_or_origin() -> None:
    assert side_of("41", LINEAGE) is Side.DESTINATION
    assert side_of("37", LINEAGE) is Side.ORIGIN
