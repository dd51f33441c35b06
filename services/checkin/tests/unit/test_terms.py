from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.terms import term_bounds, term_name, term_of


def test_term_of__september_is_the_autumn_term_of_its_year() -> None:
    assert term_of(date(2026, 9, 1)) == "2026-autumn"


def test_term_of__january_belongs_to_the_previous_autumn() -> None:
    assert term_of(date(2027, 1, 15)) == "2026-autumn"
    assert term_of(date(2027, 1, 31)) == "2026-autumn"


def test_term_of__february_starts_the_spring_term() -> None:
    assert term_of(date(2027, 2, 1)) == "2027-spring"


def test_term_of__the_seed_registration_round_is_in_spring_2023() -> None:
    # seed 000: "2023年春季电子学籍注册", 2023-03-04
    assert term_of(date(2023, 3, 4)) == term_name(2023, "spring")


def test_term_of__july_is_spring_and_august_autumn() -> None:
    assert term_of(date(2026, 7, 31)) == "2026-spring"
    assert term_of(date(2026, 8, 1)) == "2026-autumn"


@given(st.dates(min_value=date(2000, 2, 1), max_value=date(2099, 12, 31)))
def test_term_of__every_day_lies_inside_the_bounds_of_its_term(day: date) -> None:
    year, season = term_of(day).split("-")
    first, last = term_bounds(int(year), season)  # type: ignore[arg-type]
    assert first <= day <= last
    # The terms tile the calendar: the day after a term's last day starts another term.
    assert term_of(last + timedelta(days=1)) != term_of(last)
