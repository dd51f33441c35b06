"""The registration rules single entry and import share (domain/registration.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.duplicates import later_registered_acts_first
from services.enrollment.domain.registration import (
    Candidate,
    Registration,
    RuleViolation,
    SchoolOffer,
    course_violations,
    needs_identity_check,
    temporary_student_number,
    validate_registration,
)
from shared.idnumber import make_resident_id

TODAY = date(2026, 11, 27)
OFFER = SchoolOffer(
    entry_year=2025, class_major="710201", known_majors={"710201", "720101"}, qualified_majors={"710201"}
)


def _candidate(**overrides: object) -> Candidate:
    base = Candidate(
        name="王小明",
        id_type="resident_id",
        id_number=make_resident_id("410102", date(2010, 3, 15), 123),
        study_length=3,
        study_form="full_time",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def _fields(result: Registration | list[RuleViolation]) -> set[str]:
    assert isinstance(result, list), result
    return {v.field for v in result}


@given(
    st.dates(min_value=date(1995, 1, 1), max_value=date(2012, 8, 31)), st.integers(min_value=0, max_value=999)
)
def test_validate_registration__sex_and_birth_come_from_the_resident_id(birth: date, seq: int) -> None:
    number = make_resident_id("410102", birth, seq)
    result = validate_registration(_candidate(id_number=number, study_length=3), OFFER, today=TODAY)
    if isinstance(result, list):  # adults may also take 3 years, so only the age floor fails
        assert _fields(result) == {"study_length"}
        return
    assert result.birth_date == birth
    assert result.sex == ("M" if seq % 2 else "F")
    assert result.major_code == "710201"


def test_validate_registration__bad_check_digit_names_id_number() -> None:
    good = make_resident_id("410102", date(2010, 3, 15), 123)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert _fields(validate_registration(_candidate(id_number=bad), OFFER, today=TODAY)) == {"id_number"}


def test_validate_registration__declared_birth_date_must_match_the_id() -> None:
    result = validate_registration(_candidate(birth_date=date(2010, 3, 16)), OFFER, today=TODAY)
    assert _fields(result) == {"birth_date"}


def test_validate_registration__declared_sex_must_match_the_id() -> None:
    assert _fields(validate_registration(_candidate(sex="F"), OFFER, today=TODAY)) == {"sex"}


def test_validate_registration__unknown_major() -> None:
    result = validate_registration(_candidate(major_code="999999"), OFFER, today=TODAY)
    assert isinstance(result, list) and "不在中职专业目录" in result[0].reason_zh


def test_validate_registration__major_not_qualified_for_this_school() -> None:
    result = validate_registration(_candidate(major_code="720101"), OFFER, today=TODAY)
    assert isinstance(result, list) and "招生资质" in result[0].reason_zh


def test_validate_registration__entry_age_vs_study_length() -> None:
    result = validate_registration(_candidate(study_length=2), OFFER, today=TODAY)
    assert isinstance(result, list) and result[0].field == "study_length" and "学制" in result[0].reason_zh


def test_validate_registration__reports_every_problem_of_a_row() -> None:
    result = validate_registration(_candidate(name="", major_code="999999", sex="F"), OFFER, today=TODAY)
    assert _fields(result) == {"name", "major_code", "sex"}


def test_validate_registration__passport_needs_sex_and_birth_date() -> None:
    result = validate_registration(_candidate(id_type="passport", id_number="E1234567"), OFFER, today=TODAY)
    assert _fields(result) == {"birth_date", "sex"}
    ok = validate_registration(
        _candidate(id_type="passport", id_number="e 123-4567", sex="F", birth_date=date(2010, 1, 1)),
        OFFER,
        today=TODAY,
    )
    assert isinstance(ok, Registration) and ok.id_number == "E1234567"


def test_validate_registration__no_id_is_not_for_this_path() -> None:
    assert "id_type" in _fields(validate_registration(_candidate(id_type="none"), OFFER, today=TODAY))


def test_needs_identity_check__resident_ids_only() -> None:
    assert needs_identity_check("resident_id")
    assert not any(needs_identity_check(t) for t in ("hk_macao_taiwan", "passport"))


@given(st.uuids())
def test_temporary_student_number__l_and_stable_and_unique(uuid: object) -> None:
    number = temporary_student_number(str(uuid))
    assert number == temporary_student_number(str(uuid))
    assert number.startswith("L") and len(number) == 33 and number[1:] == str(uuid).replace("-", "")


@given(st.datetimes(), st.datetimes())
def test_later_registered_acts_first__exactly_one_side_acts(a: object, b: object) -> None:
    here = later_registered_acts_first(a, b, here="41", there="37")  # type: ignore[arg-type]
    there = later_registered_acts_first(b, a, here="37", there="41")  # type: ignore[arg-type]
    assert {here, there} == {"here", "counterpart"}


@given(
    birth=st.dates(min_value=date(1995, 1, 1), max_value=date(2020, 12, 31)),
    length=st.sampled_from([1.0, 2.0, 3.0, 3.5, 4.0, 5.0, 6.0]),
    route=st.sampled_from(["junior_high_graduate", "primary_arts", "junior_high_unfinished"]),
    form=st.sampled_from(["full_time", "part_time"]),
)
def test_course_rules__a_student_without_id_is_judged_as_one_with_an_id(
    birth: date, length: float, route: str, form: str
) -> None:
    """The rules a no-ID student is checked by (birth date typed in) are exactly the school-data
    rules an ID'd student of the same birth date meets: one function, no second copy."""
    with_id = validate_registration(
        _candidate(
            id_number=make_resident_id("410102", birth, 7),
            study_length=length,
            entry_route=route,
            study_form=form,
        ),
        OFFER,
        today=TODAY,
    )
    without_id = course_violations(
        major_code="710201",
        offer=OFFER,
        birth=birth,
        route=route,  # type: ignore[arg-type]
        study_length=length,
        study_form=form,  # type: ignore[arg-type]
    )
    id_problems = [v for v in with_id if v.field == "study_length"] if isinstance(with_id, list) else []
    assert id_problems == without_id
