"""备案 deadlines and qualifications; registration windows."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.filing import (
    Intake,
    filing_deadline,
    is_filing_open,
    is_registration_open,
    may_file,
    registration_deadline,
    season_of_registration,
)


def test_deadlines__autumn_and_spring() -> None:
    assert (registration_deadline(Intake(2026, "autumn")), filing_deadline(Intake(2026, "autumn"))) == (
        date(2026, 11, 20),
        date(2026, 12, 20),
    )
    assert (registration_deadline(Intake(2026, "spring")), filing_deadline(Intake(2026, "spring"))) == (
        date(2026, 4, 20),
        date(2026, 5, 20),
    )


def test_may_file__deadline_day_in_time_next_day_closed() -> None:
    autumn = Intake(2026, "autumn")
    assert may_file(qualified=True, intake=autumn, today=date(2026, 12, 20)) is None
    closed = may_file(qualified=True, intake=autumn, today=date(2026, 12, 21))
    assert closed is not None and "截止" in closed[1]


def test_may_file__unqualified_major_refused() -> None:
    reason = may_file(qualified=False, intake=Intake(2026, "autumn"), today=date(2026, 11, 27))
    assert reason is not None and "招生资质" in reason[1]


_intake = st.builds(Intake, st.integers(2000, 2100), st.sampled_from(["autumn", "spring"]))


@given(_intake, st.dates(date(1999, 1, 1), date(2101, 12, 31)), st.booleans())
def test_may_file__only_qualified_inside_the_window(intake: Intake, today: date, qualified: bool) -> None:
    allowed = may_file(qualified=qualified, intake=intake, today=today) is None
    assert allowed == (qualified and is_filing_open(intake, today))
    if today > filing_deadline(intake):
        assert not allowed  # after the deadline, never again for that intake


@given(_intake, st.dates(date(1999, 1, 1), date(2101, 12, 31)))
def test_windows__registration_closes_before_filing(intake: Intake, today: date) -> None:
    if is_registration_open(intake, today):
        assert is_filing_open(intake, today)
    assert filing_deadline(intake) - registration_deadline(intake) >= timedelta(days=30)


def test_season_of_registration__first_half_is_spring() -> None:
    assert season_of_registration(date(2026, 3, 1)) == "spring"
    assert season_of_registration(date(2026, 9, 10)) == "autumn"
