"""Entry age vs study length (seed 004 art. 10, DOMAIN.md "Enrollment")."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.study_length import (
    ENTRY_ROUTES_ZH,
    MINIMUM_ENTRY_AGE,
    age_on_september_first,
    allowed_study_lengths,
    entry_age_and_study_length_problem,
)

routes = st.sampled_from(list(ENTRY_ROUTES_ZH))
forms = st.sampled_from(["full_time", "part_time"])


@pytest.mark.parametrize(
    ("birth", "year", "age"),
    [(date(2009, 9, 1), 2024, 15), (date(2009, 9, 2), 2024, 14), (date(2008, 2, 29), 2026, 18)],
)
def test_age_on_september_first__counts_completed_years(birth: date, year: int, age: int) -> None:
    assert age_on_september_first(birth, year) == age


def test_allowed_study_lengths__junior_high_graduate_under_18_is_three_years() -> None:
    assert allowed_study_lengths("junior_high_graduate", 15, "full_time") == {3.0}


def test_allowed_study_lengths__adults_one_to_three() -> None:
    assert allowed_study_lengths("junior_high_graduate", 18, "full_time") == {1.0, 1.5, 2.0, 2.5, 3.0}


def test_allowed_study_lengths__primary_arts_five_or_six() -> None:
    assert allowed_study_lengths("primary_arts", 12, "full_time") == {5.0, 6.0}


def test_allowed_study_lengths__unfinished_junior_high_three_and_a_half_or_four() -> None:
    assert allowed_study_lengths("junior_high_unfinished", 14, "full_time") == {3.5, 4.0}


@given(routes, st.integers(min_value=0, max_value=60), forms)
def test_allowed_study_lengths__never_above_six_never_empty(route: str, age: int, form: str) -> None:
    lengths = allowed_study_lengths(route, age, form)  # type: ignore[arg-type]
    assert lengths and max(lengths) <= 6.0 and min(lengths) >= 1.0


@given(routes, st.integers(min_value=0, max_value=60))
def test_allowed_study_lengths__part_time_allows_everything_full_time_does_and_up_to_six(
    route: str, age: int
) -> None:
    full = allowed_study_lengths(route, age, "full_time")  # type: ignore[arg-type]
    part = allowed_study_lengths(route, age, "part_time")  # type: ignore[arg-type]
    assert full <= part and 6.0 in part


@given(
    st.dates(min_value=date(1980, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(min_value=2020, max_value=2030),
    routes,
    st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]),
    forms,
)
def test_entry_age_and_study_length_problem__agrees_with_the_table(
    birth: date, year: int, route: str, length: float, form: str
) -> None:
    problem = entry_age_and_study_length_problem(
        birth=birth,
        entry_year=year,
        route=route,  # type: ignore[arg-type]
        study_length=length,
        study_form=form,  # type: ignore[arg-type]
    )
    age = age_on_september_first(birth, year)
    ok = age >= MINIMUM_ENTRY_AGE[route] and length in allowed_study_lengths(route, age, form)  # type: ignore[index, arg-type]
    assert (problem is None) == ok
    if problem is not None:
        assert "入学年龄" in problem.reason_zh and str(age) in problem.reason_zh


def test_entry_age_and_study_length_problem__too_young_names_the_age() -> None:
    problem = entry_age_and_study_length_problem(
        birth=date(2015, 1, 1),
        entry_year=2024,
        route="junior_high_graduate",
        study_length=3,
        study_form="full_time",
    )
    assert problem is not None and "入学年龄不符合要求" in problem.reason_zh
