"""Which status changes answer a pending action (待办), and when an appeal may revert one
(domain/pending_action.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.pending_action import (
    RESPONSE_WORKDAYS,
    ActionKind,
    Answer,
    Standing,
    answers,
    may_revert,
    title_of,
)
from services.enrollment.domain.status_change import ChangeType


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        (Answer(ChangeType.CHANGE_STUDY_FORM, "part_time"), True),
        (Answer(ChangeType.CHANGE_STUDY_FORM, "full_time"), False),
        (Answer(ChangeType.SUSPEND), True),
        (Answer(ChangeType.WITHDRAW), True),
        (Answer(ChangeType.REPEAT_YEAR), False),
        (Answer(ChangeType.DEREGISTER), False),
    ],
)
def test_missed_rounds__non_full_time_suspend_or_withdraw(answer: Answer, ok: bool) -> None:
    assert answers(ActionKind.MISS_THRESHOLD, answer) is ok


@given(change=st.sampled_from(list(ChangeType)), form=st.sampled_from([None, "part_time", "full_time"]))
def test_proposed_suspension__only_a_suspension_answers(change: ChangeType, form: str | None) -> None:
    assert answers(ActionKind.SUSPENSION_PROPOSED, Answer(change, form)) is (change is ChangeType.SUSPEND)


def test_deadlines__five_working_days_for_missed_rounds() -> None:
    assert RESPONSE_WORKDAYS[ActionKind.MISS_THRESHOLD] == 5


def test_titles_name_the_rule() -> None:
    assert "连续2次" in title_of(ActionKind.MISS_THRESHOLD, student_name="张三", rule="two_consecutive")
    assert "累计4次" in title_of(ActionKind.MISS_THRESHOLD, student_name="张三", rule="four_cumulative")
    assert "16天" in title_of(ActionKind.SUSPENSION_PROPOSED, student_name="张三", leave_days=16)


@given(
    after=st.tuples(
        st.sampled_from(["suspended", "withdrawn", "in_school"]), st.sampled_from(["full_time", "part_time"])
    ),
    now=st.tuples(
        st.sampled_from(["suspended", "withdrawn", "in_school", "dead"]),
        st.sampled_from(["full_time", "part_time"]),
    ),
)
def test_revert__only_a_record_still_as_the_change_left_it(
    after: tuple[str, str], now: tuple[str, str]
) -> None:
    assert may_revert(Standing(*after), Standing(*now)) is (after == now)
