"""The moves of a transfer case between its states (domain/transfer_process.py)."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.transfer.domain.in_province_transfer import IN_PROVINCE
from services.transfer.domain.review_levels import ReviewLevel
from services.transfer.domain.transfer_process import (
    OPEN_STATES,
    STATE_LABELS,
    TERMINAL_STATES,
    Action,
    Approve,
    Cancel,
    CaseState,
    Expire,
    Progress,
    RecordsMoved,
    Reject,
    TransitionNotAllowed,
    label,
    started,
    transition,
)

L = ReviewLevel
S = CaseState
CHAIN = IN_PROVINCE.default_chain  # origin school, destination school, origin county, destination county
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def refusal(progress: Progress, action: Action) -> TransitionNotAllowed:
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(progress, CHAIN, action)
    assert refused.value.reason and CHINESE.search(refused.value.reason_zh)
    return refused.value


def at(level: ReviewLevel) -> Progress:
    return Progress(S.UNDER_REVIEW, level)


MOVING = Progress(S.RECORDS_MOVING)


def test_started__waits_for_the_first_level() -> None:
    assert started(CHAIN) == at(L.ORIGIN_SCHOOL)


def test_started__refuses_an_empty_chain() -> None:
    with pytest.raises(ValueError):
        started([])


def test_approve__walks_the_chain_then_moves_the_records() -> None:
    progress = started(CHAIN)
    seen = []
    for level in CHAIN:
        progress = transition(progress, CHAIN, Approve(level))
        seen.append(progress)
    assert seen == [at(L.DEST_SCHOOL), at(L.ORIGIN_COUNTY), at(L.DEST_COUNTY), MOVING]
    assert transition(progress, CHAIN, RecordsMoved()) == Progress(S.COMPLETED)


def test_approve__at_a_level_not_pending_is_refused_with_the_level_in_both_languages() -> None:
    refused = refusal(at(L.ORIGIN_SCHOOL), Approve(L.DEST_SCHOOL))
    assert "origin_school" in refused.reason
    assert "转出学校" in refused.reason_zh


@pytest.mark.parametrize(("checks", "words"), [(None, "尚未返回"), (False, "未通过")])
def test_approve__first_level_needs_both_checks_passed(checks: bool | None, words: str) -> None:
    refused = refusal(at(L.ORIGIN_SCHOOL), Approve(L.ORIGIN_SCHOOL, checks_passed=checks))
    assert words in refused.reason_zh


@pytest.mark.parametrize("checks", [None, False])
def test_approve__later_levels_do_not_ask_for_the_checks_again(checks: bool | None) -> None:
    assert transition(at(L.DEST_SCHOOL), CHAIN, Approve(L.DEST_SCHOOL, checks)) == at(L.ORIGIN_COUNTY)


@pytest.mark.parametrize("level", CHAIN)
def test_reject__at_the_pending_level_ends_the_case(level: ReviewLevel) -> None:
    assert transition(at(level), CHAIN, Reject(level)) == Progress(S.REJECTED)


def test_reject__at_another_level_is_refused() -> None:
    refusal(at(L.DEST_SCHOOL), Reject(L.ORIGIN_COUNTY))


def test_system_reject__before_any_approval_ends_the_case() -> None:
    assert transition(at(L.ORIGIN_SCHOOL), CHAIN, Reject()) == Progress(S.REJECTED)


@pytest.mark.parametrize("level", CHAIN[1:])
def test_system_reject__after_an_approval_is_refused(level: ReviewLevel) -> None:
    assert "已有审核通过" in refusal(at(level), Reject()).reason_zh


@pytest.mark.parametrize("level", CHAIN)
@pytest.mark.parametrize(("action", "ends"), [(Cancel(), S.CANCELLED), (Expire(), S.EXPIRED)])
def test_cancel_and_expire__end_a_case_under_review(
    level: ReviewLevel, action: Action, ends: CaseState
) -> None:
    assert transition(at(level), CHAIN, action) == Progress(ends)


@pytest.mark.parametrize(
    "action", [Cancel(), Expire(), Reject(), Reject(L.DEST_COUNTY), Approve(L.DEST_COUNTY)], ids=repr
)
def test_records_moving__admits_only_the_records_arriving(action: Action) -> None:
    assert "已开始调转" in refusal(MOVING, action).reason_zh


@pytest.mark.parametrize("level", CHAIN)
def test_records_moved__before_every_approval_is_refused(level: ReviewLevel) -> None:
    assert "尚未全部审核通过" in refusal(at(level), RecordsMoved()).reason_zh


ALL_ACTIONS: list[Action] = [
    Cancel(),
    Expire(),
    RecordsMoved(),
    Reject(),
    *[Reject(level) for level in L],
    *[Approve(level, checks) for level in L for checks in (True, False, None)],
]


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@pytest.mark.parametrize("action", ALL_ACTIONS, ids=repr)
def test_terminal_states__accept_nothing(state: CaseState, action: Action) -> None:
    refused = refusal(Progress(state), action)
    assert state.value in refused.reason
    assert STATE_LABELS[state] in refused.reason_zh


def test_label__names_the_pending_level_or_the_state() -> None:
    assert label(at(L.DEST_COUNTY)) == "待转入学校所属教育局审核"
    assert label(MOVING) == "学籍调档中"
    assert label(Progress(S.COMPLETED)) == "调档完毕"


actions = st.sampled_from(ALL_ACTIONS)


@given(st.lists(actions, max_size=30))
def test_transition__no_action_sequence_reaches_an_illegal_state(sequence: list[Action]) -> None:
    progress = started(CHAIN)
    history = [progress]
    for action in sequence:
        try:
            progress = transition(progress, CHAIN, action)
        except TransitionNotAllowed as refused:
            assert refused.reason and CHINESE.search(refused.reason_zh)
            continue
        history.append(progress)
    for before, after in pairwise(history):
        assert before.state in OPEN_STATES  # an ended case never moves again
        if after.state is S.COMPLETED:
            assert before.state is S.RECORDS_MOVING
        if after.state is S.RECORDS_MOVING:
            assert before == at(CHAIN[-1])
        if after.state is S.UNDER_REVIEW:
            assert before.pending is not None and after.pending is not None
            assert CHAIN.index(after.pending) == CHAIN.index(before.pending) + 1
    for progress in history:
        assert (progress.pending is not None) == (progress.state is S.UNDER_REVIEW)
