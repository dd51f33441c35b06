from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.graduation import (
    CertificateTrail,
    GraduationRefused,
    Outcome,
    Step,
    certificate_mark,
    graduation_detail,
    on_graduated,
    on_rolled_back,
    rollback_detail,
    season_of_record,
    study_start,
)
from services.enrollment.domain.student_state import StudentState

S = StudentState
OUTCOME_STATE: dict[Outcome, StudentState] = {
    "graduated": S.GRADUATED,
    "completed": S.COMPLETED,
    "left_without_completing": S.LEFT_WITHOUT_COMPLETING,
}
OUTCOMES: list[Outcome] = list(OUTCOME_STATE)


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("state", list(StudentState))
def test_on_graduated__only_a_student_who_studies_graduates(state: StudentState, outcome: Outcome) -> None:
    if state in {S.IN_SCHOOL, S.ON_LEAVE}:
        move = on_graduated(state, outcome, CertificateTrail())
        assert (move.step, move.to) == (Step.APPLY, OUTCOME_STATE[outcome])
    else:
        with pytest.raises(GraduationRefused, match=f"status {state.value} cannot graduate"):
            on_graduated(state, outcome, CertificateTrail())


def test_on_graduated__a_replay_changes_nothing() -> None:
    trail = CertificateTrail(graduated_as=S.GRADUATED)
    assert on_graduated(S.GRADUATED, "graduated", trail).step is Step.NOTHING
    # Also when the record moved on since: not graduated a second time.
    assert on_graduated(S.IN_SCHOOL, "graduated", trail).step is Step.NOTHING


def test_on_graduated__after_its_rollback_came_first_changes_nothing() -> None:
    move = on_graduated(S.IN_SCHOOL, "completed", CertificateTrail(rolled_back=True))
    assert move.step is Step.NOTHING


@pytest.mark.parametrize("outcome", list(OUTCOME_STATE.values()))
def test_on_rolled_back__returns_the_graduate_to_school(outcome: StudentState) -> None:
    move = on_rolled_back(outcome, CertificateTrail(graduated_as=outcome))
    assert (move.step, move.to) == (Step.APPLY, S.IN_SCHOOL)


def test_on_rolled_back__a_record_moved_on_since_is_only_noted() -> None:
    move = on_rolled_back(S.TRANSFERRED_OUT, CertificateTrail(graduated_as=S.GRADUATED))
    assert move.step is Step.NOTE and move.to is None and "未恢复在校" in move.note_zh


def test_on_rolled_back__before_its_graduation_is_noted() -> None:
    move = on_rolled_back(S.IN_SCHOOL, CertificateTrail())
    assert move.step is Step.NOTE and move.to is None


def test_on_rolled_back__twice_changes_nothing() -> None:
    trail = CertificateTrail(graduated_as=S.GRADUATED, rolled_back=True)
    assert on_rolled_back(S.IN_SCHOOL, trail).step is Step.NOTHING


def _deliver(events: list[str], outcome: Outcome) -> tuple[StudentState, int]:
    """Apply one certificate's deliveries in the given order the way the handlers do, keeping
    the trail as the history would; the final status and how often it changed."""
    status, trail, changes = S.IN_SCHOOL, CertificateTrail(), 0
    for event in events:
        if event == "graduated":
            move = on_graduated(status, outcome, trail)
            if move.step is Step.APPLY:
                assert move.to is not None
                status, changes = move.to, changes + 1
                trail = CertificateTrail(graduated_as=move.to, rolled_back=trail.rolled_back)
        else:
            move = on_rolled_back(status, trail)
            if move.step is Step.APPLY:
                assert move.to is not None
                status, changes = move.to, changes + 1
            if move.step is not Step.NOTHING:
                trail = CertificateTrail(graduated_as=trail.graduated_as, rolled_back=True)
    return status, changes


@given(st.lists(st.sampled_from(["graduated", "rolled_back"]), max_size=12), st.sampled_from(OUTCOMES))
def test_deliveries__a_rollback_wins_in_any_order_and_repeats_change_nothing(
    events: list[str], outcome: Outcome
) -> None:
    status, changes = _deliver(events, outcome)
    if "rolled_back" in events:
        # Rolled back: in school, whether the graduation came first, later or never.
        assert status is S.IN_SCHOOL
    elif "graduated" in events:
        assert status is OUTCOME_STATE[outcome]
    else:
        assert status is S.IN_SCHOOL
    # Graduated at most once and returned at most once, however often each was delivered.
    assert changes <= 2


def test_certificate_mark__one_number_does_not_match_a_longer_one() -> None:
    detail = graduation_detail(S.GRADUATED, "2027410102000112", date(2027, 6, 11), "list-1")
    assert certificate_mark("2027410102000112") in detail
    assert certificate_mark("202741010200011") not in detail


@pytest.mark.parametrize(
    ("state", "word"), [(S.GRADUATED, "毕业"), (S.COMPLETED, "结业"), (S.LEFT_WITHOUT_COMPLETING, "肄业")]
)
def test_graduation_detail__names_the_outcome_number_and_date(state: StudentState, word: str) -> None:
    detail = graduation_detail(state, "N-1", date(2027, 6, 11), "list-1")
    assert detail.startswith(word) and "N-1" in detail and "2027年6月11日" in detail


def test_rollback_detail__says_why_and_who() -> None:
    detail = rollback_detail(S.COMPLETED, "N-1", "信息错误", "county")
    assert detail.startswith("撤销结业") and "信息错误" in detail and "县级教育行政部门" in detail


def test_study_start__autumn_in_september_spring_in_march() -> None:
    assert study_start(2024, "autumn") == date(2024, 9, 1)
    assert study_start(2025, "spring") == date(2025, 3, 1)


def test_season_of_record__the_filing_decides() -> None:
    assert season_of_record(2024, "spring", date(2024, 10, 1)) == "spring"
    assert season_of_record(2024, "autumn", date(2024, 3, 1)) == "autumn"


def test_season_of_record__unfiled_from_the_registration_in_the_entry_year() -> None:
    assert season_of_record(2024, None, date(2024, 3, 15)) == "spring"
    assert season_of_record(2024, None, date(2024, 9, 15)) == "autumn"


def test_season_of_record__registered_in_a_later_year_is_autumn() -> None:
    assert season_of_record(2024, None, date(2026, 3, 15)) == "autumn"
