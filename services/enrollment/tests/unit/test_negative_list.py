"""Negative-list rules FM2, FM3, FM5, FM8 and the D rating (seed 004 第二十一—二十三条)."""

from __future__ import annotations

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
    [((60, 59), 300, False), ((59, 59), 300, True), ((0, 100), 240, False), ((100, 100), 239, True)],
)
def test_fm8_no_effective_enrolment(new: tuple[int, int], in_school: int, broken: bool) -> None:
    assert fm8_no_effective_enrolment(new, in_school) is broken


def test_forced_rating__d_when_any_item_is_broken() -> None:
    clean = Indicators(fm2=False, fm3=False, fm5=None, fm8=False)
    assert forced_rating(clean) is None and clean.broken == []
    dirty = Indicators(fm2=False, fm3=False, fm5=True, fm8=False)
    assert forced_rating(dirty) == "D" and dirty.broken == ["fm5"]
