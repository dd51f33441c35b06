"""学籍异动 as one transition table plus the rules a row cannot say."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.status_change import (
    ACTION_OF,
    ChangeRefused,
    ChangeRequest,
    ChangeType,
    Course,
    apply_change,
    is_in_graduating_year,
    may_change_major,
    required_levels,
)
from services.enrollment.domain.student_state import StudentState, allowed_actions

TODAY = date(2026, 11, 27)  # school year 2026/27
COURSE = Course(StudentState.IN_SCHOOL, 2025, "710201", "c1", 3, "full_time")

# Where each change leads from a student in school (None: not allowed from 在校).
FROM_IN_SCHOOL = {
    ChangeType.REPEAT_YEAR: StudentState.IN_SCHOOL,
    ChangeType.CHANGE_MAJOR: StudentState.IN_SCHOOL,
    ChangeType.CHANGE_STUDY_FORM: StudentState.IN_SCHOOL,
    ChangeType.SKIP_GRADE: StudentState.IN_SCHOOL,
    ChangeType.SUSPEND: StudentState.SUSPENDED,
    ChangeType.RESUME: None,
    ChangeType.WITHDRAW: StudentState.WITHDRAWN,
    ChangeType.RESTORE: None,
    ChangeType.DEREGISTER: StudentState.DEREGISTERED,
    ChangeType.DEATH: StudentState.DEAD,
    ChangeType.GO_ABROAD: StudentState.ABROAD,
    ChangeType.RETURN_FROM_ABROAD: None,
}


def _request(change: ChangeType) -> ChangeRequest:
    return ChangeRequest(change, new_major_code="730101", new_study_form="part_time")


@pytest.mark.parametrize("change", list(ChangeType))
def test_apply_change__every_type_from_in_school(change: ChangeType) -> None:
    expected = FROM_IN_SCHOOL[change]
    if expected is None:
        with pytest.raises(ChangeRefused):
            apply_change(COURSE, _request(change), TODAY)
    else:
        assert apply_change(COURSE, _request(change), TODAY).status is expected


def test_apply_change__suspend_then_resume_then_withdraw_then_restore() -> None:
    course = apply_change(COURSE, ChangeRequest(ChangeType.SUSPEND), TODAY)
    course = apply_change(
        course, ChangeRequest(ChangeType.RESUME, new_class_id="c9", new_class_grade=2026), TODAY
    )
    assert (course.status, course.class_id, course.grade) == (StudentState.IN_SCHOOL, "c9", 2026)
    course = apply_change(course, ChangeRequest(ChangeType.WITHDRAW), TODAY)
    assert apply_change(course, ChangeRequest(ChangeType.RESTORE), TODAY).status is StudentState.IN_SCHOOL


def test_apply_change__abroad_and_back() -> None:
    course = apply_change(COURSE, ChangeRequest(ChangeType.GO_ABROAD), TODAY)
    assert course.status is StudentState.ABROAD
    assert (
        apply_change(course, ChangeRequest(ChangeType.RETURN_FROM_ABROAD), TODAY).status
        is StudentState.IN_SCHOOL
    )


def test_apply_change__repeat_year_joins_the_next_cohort() -> None:
    after = apply_change(COURSE, ChangeRequest(ChangeType.REPEAT_YEAR), TODAY)
    assert (after.grade, after.class_id) == (2026, None)
    with pytest.raises(ChangeRefused) as raised:
        apply_change(
            COURSE, ChangeRequest(ChangeType.REPEAT_YEAR, new_class_id="x", new_class_grade=2025), TODAY
        )
    assert raised.value.refusal.field == "new_class_id"


def test_may_change_major__not_in_the_graduating_year() -> None:
    assert may_change_major(2025, 3, TODAY)
    assert not may_change_major(2024, 3, TODAY)  # 2024 + 3 years: 2026/27 is the last year
    with pytest.raises(ChangeRefused) as raised:
        apply_change(replace(COURSE, grade=2024), _request(ChangeType.CHANGE_MAJOR), TODAY)
    assert raised.value.refusal.reason_zh == "毕业年级学生不能转专业"


@given(
    st.integers(2015, 2030),
    st.sampled_from([1, 2, 2.5, 3, 3.5, 4, 5, 6]),
    st.dates(date(2015, 1, 1), date(2036, 12, 31)),
)
def test_is_in_graduating_year__from_the_last_school_year_on(entry: int, length: float, today: date) -> None:
    school_year = today.year if today.month >= 9 else today.year - 1
    last_year = entry + int(-(-length // 1)) - 1
    assert is_in_graduating_year(entry, length, today) == (school_year >= last_year)


def test_required_levels__back_to_full_time_needs_the_province() -> None:
    part_time = replace(COURSE, study_form="part_time")
    back = ChangeRequest(ChangeType.CHANGE_STUDY_FORM, new_study_form="full_time")
    assert required_levels(back, part_time) == ("province",)
    assert (
        required_levels(ChangeRequest(ChangeType.CHANGE_STUDY_FORM, new_study_form="part_time"), COURSE) == ()
    )


def test_apply_change__same_study_form_is_refused_naming_the_field() -> None:
    with pytest.raises(ChangeRefused) as raised:
        apply_change(COURSE, ChangeRequest(ChangeType.CHANGE_STUDY_FORM, new_study_form="full_time"), TODAY)
    assert raised.value.refusal.field == "new_study_form"


@given(st.lists(st.sampled_from(list(ChangeType)), max_size=25))
def test_apply_change__no_sequence_leaves_an_ended_record(changes: list[ChangeType]) -> None:
    """Dead and deregistered records end: nothing changes them again; every status reached is a
    state of the table."""
    course = COURSE
    for change in changes:
        try:
            after = apply_change(course, _request(change), TODAY)
        except ChangeRefused:
            assert ACTION_OF[change] not in allowed_actions(course.status) or change in (
                ChangeType.CHANGE_MAJOR,
                ChangeType.CHANGE_STUDY_FORM,
            )
            continue
        assert course.status not in (StudentState.DEAD, StudentState.DEREGISTERED)
        assert ACTION_OF[change] in allowed_actions(course.status)
        course = after
    if course.status in (StudentState.DEAD, StudentState.DEREGISTERED):
        assert not allowed_actions(course.status) - {a for a in allowed_actions(course.status)}
        for change in ChangeType:
            with pytest.raises(ChangeRefused):
                apply_change(course, _request(change), TODAY)
