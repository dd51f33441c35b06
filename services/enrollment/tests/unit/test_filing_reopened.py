"""A supplementary registration window (补注册) reopens its intake's filing (备案) until it ends."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.filing import Intake, filing_deadline, is_filing_open, may_file
from services.enrollment.domain.registration_window import (
    SchoolPlace,
    SupplementaryWindow,
    is_filing_reopened,
    registration_refusal,
)

PLACE = SchoolPlace("41", "4101", "410102", "4141010001")
AUTUMN_2023 = Intake(2023, "autumn")
WINDOW = SupplementaryWindow(AUTUMN_2023, date(2026, 11, 21), date(2027, 12, 31), "41")

_intakes = st.builds(Intake, st.integers(2018, 2030), st.sampled_from(["autumn", "spring"]))
_days = st.dates(date(2018, 1, 1), date(2032, 12, 31))
_places = st.builds(
    SchoolPlace,
    st.sampled_from(["41", "37"]),
    st.sampled_from(["4101", "4102"]),
    st.sampled_from(["410102", "410202"]),
    st.sampled_from(["4141010001", "4141020001"]),
)


def test_is_filing_reopened__window_runs_from_start_to_end_day() -> None:
    assert not is_filing_reopened(AUTUMN_2023, PLACE, date(2026, 11, 20), [WINDOW])
    assert is_filing_reopened(AUTUMN_2023, PLACE, date(2026, 11, 21), [WINDOW])
    assert is_filing_reopened(AUTUMN_2023, PLACE, date(2027, 12, 31), [WINDOW])
    assert not is_filing_reopened(AUTUMN_2023, PLACE, date(2028, 1, 1), [WINDOW])


def test_is_filing_reopened__only_the_window_s_intake_and_place() -> None:
    on = date(2026, 11, 27)
    assert not is_filing_reopened(Intake(2024, "autumn"), PLACE, on, [WINDOW])
    assert not is_filing_reopened(Intake(2023, "spring"), PLACE, on, [WINDOW])
    elsewhere = SchoolPlace("41", "4102", "410202", "4141020001")
    only_zhengzhou = SupplementaryWindow(AUTUMN_2023, WINDOW.starts_on, WINDOW.ends_on, "41", "4101")
    assert not is_filing_reopened(AUTUMN_2023, elsewhere, on, [only_zhengzhou])
    assert is_filing_reopened(AUTUMN_2023, PLACE, on, [only_zhengzhou])
    assert not is_filing_reopened(AUTUMN_2023, PLACE, on, [])


def test_may_file__closed_intake_filed_when_reopened_but_never_unqualified() -> None:
    on = date(2026, 11, 27)  # three years after the 2023 intake's deadline
    assert may_file(qualified=True, intake=AUTUMN_2023, today=on) is not None
    assert may_file(qualified=True, intake=AUTUMN_2023, today=on, reopened=True) is None
    refused = may_file(qualified=False, intake=AUTUMN_2023, today=on, reopened=True)
    assert refused is not None and "招生资质" in refused[1]


@given(_intakes, _places, _days, _days, st.integers(0, 800))
def test_is_filing_reopened__whoever_may_register_late_may_file(
    intake: Intake, place: SchoolPlace, today: date, starts_on: date, days: int
) -> None:
    """Every registration the window grants after the regular deadline can be filed the same
    day: the window never leaves a record that can never graduate (seed 004 art. 7)."""
    window = SupplementaryWindow(intake, starts_on, date.fromordinal(starts_on.toordinal() + days), "41")
    late = today > filing_deadline(intake)
    registered_late = late and registration_refusal(intake, place, today, [window]) is None
    reopened = is_filing_reopened(intake, place, today, [window])
    if registered_late:
        assert reopened
        assert may_file(qualified=True, intake=intake, today=today, reopened=reopened) is None
    if not reopened:
        allowed = may_file(qualified=True, intake=intake, today=today, reopened=reopened) is None
        assert allowed == is_filing_open(intake, today)
