"""Whom each kind of transfer takes (domain/eligibility.py; DOMAIN.md "Transfers", seed 004 art. 12)."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.transfer.domain.eligibility import (
    StudentFacts,
    TargetFacts,
    eligibility_reasons,
    months_left,
    study_year,
)
from services.transfer.domain.kinds import KINDS
from shared.events.common import StudentStatus
from shared.events.transfer import TransferKind

STATUSES = list(get_args(StudentStatus))
ADMITTED = {
    TransferKind.IN_PROVINCE: {"in_school", "on_leave"},
    TransferKind.JOINT_PROGRAMME: {"in_school", "on_leave"},
    TransferKind.CROSS_PROVINCE: {
        "in_school",
        "on_leave",
        "left_without_completing",
        "dropout",
        "abroad",
        "withdrawn",
    },
    TransferKind.AFTER_GRADUATION: {"graduated"},
}
GRADUATING = "毕业年级学生不允许转专业"
TOO_LITTLE_LEFT = "剩余学习时间不得少于1.5年"
TODAY = date(2026, 11, 27)  # school year 2026/27: an entry of 2024 on a 3-year course graduates


def student(
    status: str = "in_school",
    entry_year: int = 2025,
    study_length: float = 3.0,
    major: str | None = "0101",
    school_type: str | None = "secondary_vocational",
) -> StudentFacts:
    return StudentFacts(status, entry_year, study_length, major, school_type)


def target(major: str | None = "0101", school_type: str | None = "secondary_vocational") -> TargetFacts:
    return TargetFacts(school_type=school_type, class_major_code=major)


@given(kind=st.sampled_from(list(TransferKind)), status=st.sampled_from(STATUSES))
def test_eligibility__each_kind_admits_exactly_its_statuses(kind: TransferKind, status: str) -> None:
    reasons = eligibility_reasons(KINDS[kind], student(status), target(), TODAY)
    if status in ADMITTED[kind]:
        assert reasons == ()
    else:
        assert len(reasons) == 1
        assert KINDS[kind].label in reasons[0]
        assert status not in reasons[0]  # the registrar reads the status in Chinese


def test_eligibility__names_an_unknown_status_as_it_came() -> None:
    (reason,) = eligibility_reasons(KINDS[TransferKind.IN_PROVINCE], student("mystery"), target(), TODAY)
    assert "mystery" in reason


@pytest.mark.parametrize("kind", [TransferKind.IN_PROVINCE, TransferKind.CROSS_PROVINCE])
def test_eligibility__graduating_year_cannot_change_major(kind: TransferKind) -> None:
    assert eligibility_reasons(KINDS[kind], student(entry_year=2024), target("0202"), TODAY) == (GRADUATING,)


@pytest.mark.parametrize(
    ("facts", "goal"),
    [
        (student(entry_year=2025), target("0202")),  # second year: not graduating
        (student(entry_year=2024), target("0101")),  # graduating, same major
        (student(entry_year=2024), target(None)),  # class assigned later
        (student(entry_year=2024, major=None), target("0202")),
    ],
)
def test_eligibility__major_change_allowed_otherwise(facts: StudentFacts, goal: TargetFacts) -> None:
    assert eligibility_reasons(KINDS[TransferKind.IN_PROVINCE], facts, goal, TODAY) == ()


def test_eligibility__after_graduation_is_not_a_major_change() -> None:
    facts = student("graduated", entry_year=2023)
    assert eligibility_reasons(KINDS[TransferKind.AFTER_GRADUATION], facts, target("0202"), TODAY) == ()


def test_study_year__turns_in_september() -> None:
    assert study_year(2025, date(2026, 8, 31)) == 1
    assert study_year(2025, date(2026, 9, 1)) == 2


def test_eligibility__a_2_5_year_course_graduates_in_its_third_year() -> None:
    facts = student(entry_year=2024, study_length=2.5)
    assert eligibility_reasons(KINDS[TransferKind.IN_PROVINCE], facts, target("0202"), date(2026, 9, 1)) == (
        GRADUATING,
    )
    assert (
        eligibility_reasons(KINDS[TransferKind.IN_PROVINCE], facts, target("0202"), date(2026, 8, 31)) == ()
    )


@pytest.mark.parametrize(("today", "refused"), [(date(2027, 3, 31), False), (date(2027, 4, 1), True)])
@pytest.mark.parametrize("school_type", ["general_high", "technical"])
def test_eligibility__from_general_high_needs_18_months_left(
    today: date, refused: bool, school_type: str
) -> None:
    # Entered September 2025 on 3 years: the course ends with August 2028; March 2027 leaves 18 months.
    facts = student(entry_year=2025, school_type=school_type)
    reasons = eligibility_reasons(KINDS[TransferKind.IN_PROVINCE], facts, target(), today)
    assert (TOO_LITTLE_LEFT in "".join(reasons)) is refused
    assert months_left(2025, 3.0, today) == (17 if refused else 18)


@given(
    entry_year=st.integers(min_value=2015, max_value=2030),
    today=st.dates(min_value=date(2014, 1, 1), max_value=date(2034, 12, 31)),
    school_type=st.sampled_from(["general_high", "technical", "secondary_vocational", None]),
    target_type=st.sampled_from(["secondary_vocational", "general_high", None]),
)
def test_eligibility__time_left_rule_only_from_other_school_types_into_vocational(
    entry_year: int, today: date, school_type: str | None, target_type: str | None
) -> None:
    facts = student(entry_year=entry_year, school_type=school_type)
    reasons = eligibility_reasons(
        KINDS[TransferKind.IN_PROVINCE], facts, target(school_type=target_type), today
    )
    # Last month still allowed: March of the second calendar year after entry (18 months to September).
    past_the_boundary = (today.year, today.month) > (entry_year + 2, 3)
    applies = school_type in {"general_high", "technical"} and target_type == "secondary_vocational"
    assert (TOO_LITTLE_LEFT in "".join(reasons)) == (applies and past_the_boundary)
