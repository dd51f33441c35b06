from __future__ import annotations

from datetime import date

import pytest

from services.enrollment.domain.transfer_admission import (
    admitted_study_length,
    entry_year_of_school_year,
    moves_within_province,
)


@pytest.mark.parametrize(
    ("kind", "moves"),
    [
        ("in_province", True),
        ("joint_programme", True),
        ("cross_province", False),
        ("after_graduation", False),
    ],
)
def test_moves_within_province__only_the_kinds_inside_one_province(kind: str, moves: bool) -> None:
    assert moves_within_province(kind) is moves


def test_moves_within_province__an_unknown_kind_is_released_not_moved() -> None:
    assert not moves_within_province("something_new")


@pytest.mark.parametrize("origin", ["general_high", "technical"])
def test_admitted_study_length__from_high_or_technical_school_into_vocational_is_3_years(origin: str) -> None:
    length = admitted_study_length(
        kind="cross_province",
        carried=4.0,
        origin_school_type=origin,
        destination_school_type="secondary_vocational",
    )
    assert length == 3.0


@pytest.mark.parametrize(
    ("origin", "destination"),
    [
        ("secondary_vocational", "secondary_vocational"),
        (None, "secondary_vocational"),
        ("general_high", "general_high"),
    ],
)
def test_admitted_study_length__otherwise_the_length_is_kept(origin: str | None, destination: str) -> None:
    length = admitted_study_length(
        kind="cross_province", carried=3.5, origin_school_type=origin, destination_school_type=destination
    )
    assert length == 3.5


def test_admitted_study_length__after_graduation_starts_a_new_course() -> None:
    length = admitted_study_length(
        kind="after_graduation",
        carried=4.0,
        origin_school_type=None,
        destination_school_type="secondary_vocational",
    )
    assert length == 3.0


@pytest.mark.parametrize(
    ("today", "entry_year"),
    [(date(2026, 8, 31), 2025), (date(2026, 9, 1), 2026), (date(2027, 1, 15), 2026)],
)
def test_entry_year_of_school_year__school_years_start_in_september(today: date, entry_year: int) -> None:
    assert entry_year_of_school_year(today) == entry_year
