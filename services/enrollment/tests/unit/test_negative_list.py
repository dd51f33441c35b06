"""Negative-list rules FM2, FM3, FM5, FM8 and the D rating (seed 004 第二十一—二十三条)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.negative_list import (
    Indicators,
    fm2_unfiled_enrolment,
    fm3_duplicate_records,
    fm5_national_mismatch,
    fm8_no_effective_enrolment,
    forced_rating,
    snapshot_year_due,
)


def test_fm2_and_fm3__any_case_breaks() -> None:
    assert not fm2_unfiled_enrolment(0) and fm2_unfiled_enrolment(1)
    assert not fm3_duplicate_records(0) and fm3_duplicate_records(1)


@pytest.mark.parametrize(
    ("provincial", "national", "broken"),
    [
        (100, 102, False),
        (100, 103, True),
        (100, 98, False),
        (100, 97, True),
        (0, 0, False),
        (0, 1, True),
        (5, None, None),
    ],
)
def test_fm5_national_mismatch__more_than_two_percent(
    provincial: int, national: int | None, broken: bool | None
) -> None:
    assert fm5_national_mismatch(provincial, national) is broken


@given(provincial=st.integers(0, 100_000), national=st.integers(0, 100_000))
def test_fm5_national_mismatch__matches_the_percentage(provincial: int, national: int) -> None:
    assert fm5_national_mismatch(provincial, national) == (abs(provincial - national) > 0.02 * provincial)


@pytest.mark.parametrize(
    ("new", "in_school", "broken"),
    [
        ((60, 59), [300, 300], False),
        ((59, 59), [300, 300], True),
        ((0, 100), [240, 100], False),
        ((100, 100), [239, 239], True),
        ((100, 100), [239, 240], False),  # one year short is not "two years running"
        ((100, 100), [100], False),  # a single snapshot cannot show two years
        ((100, 100), [], False),
        ((10, 10), [], True),  # the intakes alone still decide
    ],
)
def test_fm8_no_effective_enrolment(new: tuple[int, int], in_school: list[int], broken: bool) -> None:
    assert fm8_no_effective_enrolment(new, in_school) is broken


@given(
    new=st.tuples(st.integers(0, 200), st.integers(0, 200)),
    snapshots=st.lists(st.integers(0, 1000), max_size=2),
)
def test_fm8__in_school_needs_two_snapshots_both_short(new: tuple[int, int], snapshots: list[int]) -> None:
    small_two_years = len(snapshots) == 2 and max(snapshots) < 240
    assert fm8_no_effective_enrolment(new, snapshots) == (max(new) < 60 or small_two_years)


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (date(2026, 12, 19), 2025),
        (date(2026, 12, 20), 2026),
        (date(2027, 3, 1), 2026),
        (date(2026, 12, 31), 2026),
    ],
)
def test_snapshot_year_due__taken_at_the_autumn_filing_deadline(today: date, year: int) -> None:
    assert snapshot_year_due(today) == year


def test_forced_rating__d_when_any_item_is_broken() -> None:
    clean = Indicators(fm2=False, fm3=False, fm5=None, fm8=False)
    assert forced_rating(clean) is None and clean.broken == []
    dirty = Indicators(fm2=False, fm3=False, fm5=True, fm8=False)
    assert forced_rating(dirty) == "D" and dirty.broken == ["fm5"]
