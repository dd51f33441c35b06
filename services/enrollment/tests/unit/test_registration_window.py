"""The registration window of an intake and the province's supplementary windows (补注册)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.filing import (
    Intake,
    intake_opens,
    is_registration_open,
    registration_deadline,
    season_of_registration,
)
from services.enrollment.domain.registration_window import (
    SchoolPlace,
    SupplementaryWindow,
    grant_problems,
    intake_of_registration,
    registration_refusal,
    window_covers,
)

PLACE = SchoolPlace("41", "4101", "410102", "4141010001")
AUTUMN_2024 = Intake(2024, "autumn")

_intakes = st.builds(Intake, st.integers(2000, 2100), st.sampled_from(["autumn", "spring"]))
_days = st.dates(date(1999, 1, 1), date(2101, 12, 31))


def _province_wide(intake: Intake, starts_on: date, ends_on: date) -> SupplementaryWindow:
    return SupplementaryWindow(intake, starts_on, ends_on, PLACE.province)


def test_registration_refusal__names_the_deadline() -> None:
    refusal = registration_refusal(AUTUMN_2024, PLACE, date(2026, 11, 27), [])
    assert refusal is not None
    en, zh = refusal
    assert zh.startswith("2024年秋季新生注册已于2024年11月20日截止")
    assert "2024-11-20" in en


def test_registration_refusal__deadline_day_in_time_next_day_refused() -> None:
    assert registration_refusal(AUTUMN_2024, PLACE, date(2024, 11, 20), []) is None
    assert registration_refusal(AUTUMN_2024, PLACE, date(2024, 11, 21), []) is not None
    spring = Intake(2025, "spring")
    assert registration_refusal(spring, PLACE, date(2025, 4, 20), []) is None
    refused = registration_refusal(spring, PLACE, date(2025, 4, 21), [])
    assert refused is not None and "2025年春季新生注册已于2025年4月20日截止" in refused[1]


def test_registration_refusal__before_the_intake_opens_says_when_it_opens() -> None:
    refusal = registration_refusal(Intake(2027, "autumn"), PLACE, date(2026, 11, 27), [])
    assert refusal is not None and refusal[1] == "2027年秋季新生注册尚未开始（2027年8月1日开始）"


def test_window_covers__scope_levels() -> None:
    on = date(2026, 11, 27)
    base = _province_wide(AUTUMN_2024, date(2026, 11, 21), date(2026, 12, 31))
    assert window_covers(base, AUTUMN_2024, PLACE, on)
    assert window_covers(replace(base, city="4101"), AUTUMN_2024, PLACE, on)
    assert window_covers(replace(base, city="4101", county="410102"), AUTUMN_2024, PLACE, on)
    assert window_covers(
        replace(base, city="4101", county="410102", school="4141010001"), AUTUMN_2024, PLACE, on
    )
    assert not window_covers(replace(base, city="4101", county="410103"), AUTUMN_2024, PLACE, on)
    assert not window_covers(replace(base, city="4102"), AUTUMN_2024, PLACE, on)
    assert not window_covers(replace(base, school="4141010002"), AUTUMN_2024, PLACE, on)
    assert not window_covers(replace(base, province="37"), AUTUMN_2024, PLACE, on)
    # Another intake: another season, or another year.
    assert not window_covers(base, Intake(2024, "spring"), PLACE, on)
    assert not window_covers(base, Intake(2025, "autumn"), PLACE, on)


@given(_intakes, _days)
def test_registration_refusal__without_grants_is_the_regular_window(intake: Intake, today: date) -> None:
    refusal = registration_refusal(intake, PLACE, today, [])
    assert (refusal is None) == is_registration_open(intake, today)
    if today > registration_deadline(intake):
        assert refusal is not None and "截止" in refusal[1]
    if today < intake_opens(intake):
        assert refusal is not None and "尚未开始" in refusal[1]


@given(_intakes, _days, st.integers(0, 60), st.integers(0, 60))
def test_registration_refusal__a_covering_grant_always_allows(
    intake: Intake, today: date, before: int, after: int
) -> None:
    window = _province_wide(intake, today - timedelta(days=before), today + timedelta(days=after))
    assert registration_refusal(intake, PLACE, today, [window]) is None


@given(
    _intakes,
    _days,
    st.integers(1, 400),
    st.integers(0, 60),
    st.booleans(),
    st.sampled_from(["county", "city", "school", "intake"]),
)
def test_registration_refusal__a_grant_that_misses_changes_nothing(
    intake: Intake, today: date, gap: int, length: int, earlier: bool, miss: str
) -> None:
    """A grant over other dates, for another county, city or school, or for another intake,
    decides nothing: the answer is the one without it."""
    if earlier:
        window = _province_wide(intake, today - timedelta(days=gap + length), today - timedelta(days=gap))
    else:
        window = _province_wide(intake, today + timedelta(days=gap), today + timedelta(days=gap + length))
    covering = _province_wide(intake, today, today)
    other = {
        "county": replace(covering, city="4101", county="410103"),
        "city": replace(covering, city="4103"),
        "school": replace(covering, school="4141010099"),
        "intake": replace(
            covering, intake=Intake(intake.year, "spring" if intake.season == "autumn" else "autumn")
        ),
    }[miss]
    without = registration_refusal(intake, PLACE, today, [])
    assert registration_refusal(intake, PLACE, today, [window]) == without
    assert registration_refusal(intake, PLACE, today, [other]) == without


@given(st.integers(2000, 2100), _days)
def test_intake_of_registration__matches_filing_inside_the_entry_year(grade: int, on: date) -> None:
    intake = intake_of_registration(grade, on)
    assert intake.year == grade
    if on.year == grade:
        # Filing reads the season back from the day the record was created: the same answer.
        assert intake.season == season_of_registration(on)
    else:
        assert intake.season == "autumn"


def test_intake_of_registration__late_registration_is_the_autumn_intake() -> None:
    assert intake_of_registration(2024, date(2026, 11, 27)) == AUTUMN_2024
    assert intake_of_registration(2027, date(2027, 3, 1)) == Intake(2027, "spring")
    assert intake_of_registration(2027, date(2027, 9, 1)) == Intake(2027, "autumn")


@given(_intakes, _days, st.integers(-30, 400))
def test_grant_problems__only_after_the_deadline_forward_and_not_over(
    intake: Intake, starts_on: date, length: int
) -> None:
    ends_on = starts_on + timedelta(days=length)
    today = starts_on
    fields = {field for field, _, _ in grant_problems(intake, starts_on, ends_on, today)}
    assert ("starts_on" in fields) == (starts_on <= registration_deadline(intake))
    assert ("ends_on" in fields) == (length < 0)


def test_grant_problems__a_window_already_over_is_refused() -> None:
    problems = grant_problems(AUTUMN_2024, date(2026, 11, 21), date(2026, 11, 25), date(2026, 11, 27))
    assert [field for field, _, _ in problems] == ["ends_on"]
    assert grant_problems(AUTUMN_2024, date(2026, 11, 21), date(2026, 12, 31), date(2026, 11, 27)) == []
