from __future__ import annotations

import functools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.workdays import (
    CHINESECALENDAR_SOURCE,
    CalendarDay,
    DayKind,
    WorkdayCalendar,
    days_from_chinesecalendar,
    horizon_alert,
)

SEEDED_YEARS = (2024, 2025, 2026)


@functools.cache
def _rows() -> tuple[CalendarDay, ...]:
    return tuple(days_from_chinesecalendar(SEEDED_YEARS))


@functools.cache
def _calendar() -> WorkdayCalendar:
    """2024–2026 confirmed from the package, as a province would seed it; 2027 not yet published."""
    return WorkdayCalendar(_rows(), SEEDED_YEARS)


def _row(on: date) -> CalendarDay:
    return next(r for r in _rows() if r.on == on)


def _plain(on: date, *, confirmed: bool = True) -> CalendarDay:
    weekend = on.weekday() >= 5
    return CalendarDay(
        on=on,
        is_workday=not weekend,
        kind=DayKind.WEEKEND if weekend else DayKind.WORKDAY,
        name=None,
        source="test",
        confirmed=confirmed,
    )


def _year(year: int, *, confirmed: bool = True) -> list[CalendarDay]:
    d, out = date(year, 1, 1), []
    while d.year == year:
        out.append(_plain(d, confirmed=confirmed))
        d += timedelta(days=1)
    return out


# --- seeding from chinesecalendar -------------------------------------------------------------


def test_seed__one_row_per_day_of_each_year() -> None:
    rows = _rows()
    assert len(rows) == 366 + 365 + 365
    assert len({r.on for r in rows}) == len(rows)
    assert {r.source for r in rows} == {CHINESECALENDAR_SOURCE}
    assert all(r.confirmed for r in rows)


@pytest.mark.parametrize("day", range(1, 9))
def test_seed__national_day_2025_holidays(day: int) -> None:
    row = _row(date(2025, 10, day))
    assert row.kind is DayKind.HOLIDAY
    assert row.is_workday is False
    assert row.name == ("中秋" if day == 6 else "国庆节")


@pytest.mark.parametrize("on", [date(2025, 9, 28), date(2025, 10, 11)])
def test_seed__national_day_2025_adjusted_workdays(on: date) -> None:
    assert on.weekday() >= 5
    row = _row(on)
    assert row.kind is DayKind.ADJUSTED_WORKDAY
    assert row.is_workday is True
    assert row.name == "国庆节"


def test_seed__ordinary_days_around_national_day_2025() -> None:
    assert _row(date(2025, 9, 27)).kind is DayKind.WEEKEND  # Saturday before
    assert _row(date(2025, 10, 9)).kind is DayKind.WORKDAY
    assert _row(date(2025, 10, 9)).name is None
    assert _row(date(2025, 10, 12)).kind is DayKind.WEEKEND  # Sunday after


def test_seed__spring_festival_2026_named() -> None:
    assert _row(date(2026, 2, 17)).kind is DayKind.HOLIDAY
    assert _row(date(2026, 2, 17)).name == "春节"


def test_seed__uncovered_years_skipped() -> None:
    assert days_from_chinesecalendar([2027]) == []
    assert days_from_chinesecalendar([2003, 2030]) == []
    rows = days_from_chinesecalendar([2027, 2026, 2026])
    assert len(rows) == 365
    assert {r.on.year for r in rows} == {2026}


# --- the calendar ------------------------------------------------------------------------------


def test_is_workday__national_day_week_2025() -> None:
    cal = _calendar()
    expected = {
        date(2025, 9, 27): False,
        date(2025, 9, 28): True,
        date(2025, 9, 29): True,
        date(2025, 9, 30): True,
        **{date(2025, 10, d): False for d in range(1, 9)},
        date(2025, 10, 9): True,
        date(2025, 10, 10): True,
        date(2025, 10, 11): True,
        date(2025, 10, 12): False,
    }
    assert {d: cal.is_workday(d) for d in expected} == expected


def test_add_workdays__across_national_day_2025() -> None:
    cal = _calendar()
    assert cal.add_workdays(date(2025, 9, 30), 1).due_on == date(2025, 10, 9)
    assert cal.add_workdays(date(2025, 9, 30), 3).due_on == date(2025, 10, 11)  # adjusted Saturday
    assert cal.add_workdays(date(2025, 9, 26), 1).due_on == date(2025, 9, 28)  # adjusted Sunday
    deadline = cal.add_workdays(date(2025, 9, 26), 5)
    assert deadline.due_on == date(2025, 10, 10)
    assert deadline.provisional is False
    assert deadline.unconfirmed_years == frozenset()


def test_add_workdays__twenty_days_from_national_day_eve() -> None:
    # 9-30 → 10-09, 10, 11(adjusted), 13–17, 20–24, 27–31, 11-03, 04 = 20 working days.
    assert _calendar().add_workdays(date(2025, 9, 30), 20).due_on == date(2025, 11, 4)


def test_add_workdays__start_day_not_counted() -> None:
    assert _calendar().add_workdays(date(2025, 9, 29), 1).due_on == date(2025, 9, 30)


@pytest.mark.parametrize("n", [0, -1])
def test_add_workdays__rejects_n_below_one(n: int) -> None:
    with pytest.raises(ValueError):
        _calendar().add_workdays(date(2025, 9, 29), n)


def test_add_workdays__provisional_into_2027() -> None:
    deadline = _calendar().add_workdays(date(2026, 12, 30), 3)
    # 2026-12-31 (Thu, confirmed), then Mon–Fri fallback: 2027-01-01 (Fri) and 2027-01-04 (Mon).
    assert deadline.due_on == date(2027, 1, 4)
    assert deadline.provisional is True
    assert deadline.unconfirmed_years == frozenset({2027})


def test_add_workdays__unconfirmed_rows_ignored() -> None:
    draft_2027 = [
        CalendarDay(date(2027, 1, 1), False, DayKind.HOLIDAY, "元旦", "draft", confirmed=False),
        *(_plain(date(2027, 1, d), confirmed=False) for d in range(2, 10)),
    ]
    cal = WorkdayCalendar([*_rows(), *draft_2027], SEEDED_YEARS)
    assert cal.is_workday(date(2027, 1, 1)) is True
    assert cal.add_workdays(date(2026, 12, 31), 1).due_on == date(2027, 1, 1)


def test_add_workdays__no_confirmed_years_is_monday_to_friday() -> None:
    cal = WorkdayCalendar([], [])
    deadline = cal.add_workdays(date(2025, 10, 1), 3)  # Wednesday; National Day ignored
    assert deadline.due_on == date(2025, 10, 6)
    assert deadline.provisional is True
    assert deadline.unconfirmed_years == frozenset({2025})


def test_add_workdays__spanning_two_unconfirmed_years() -> None:
    deadline = WorkdayCalendar(_year(2025), [2025]).add_workdays(date(2025, 12, 31), 270)
    assert deadline.due_on.year == 2027
    assert deadline.unconfirmed_years == frozenset({2026, 2027})


def test_workdays_between__national_day_2025() -> None:
    cal = _calendar()
    assert cal.workdays_between(date(2025, 9, 30), date(2025, 10, 12)) == 3
    assert cal.workdays_between(date(2025, 10, 12), date(2025, 9, 30)) == -3
    assert cal.workdays_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    assert cal.workdays_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert cal.workdays_between(date(2025, 9, 26), date(2025, 9, 28)) == 1


def test_horizon_alert__reaches_unconfirmed_year() -> None:
    # 2026-12-11..31 holds 15 working days, so the 20th falls in 2027.
    assert horizon_alert(_calendar(), date(2026, 12, 10), 20) == 2027


def test_horizon_alert__within_confirmed_years() -> None:
    # 2026-12-02..31 holds 22 working days: the 20th is 2026-12-29.
    assert _calendar().add_workdays(date(2026, 12, 1), 20).due_on == date(2026, 12, 29)
    assert horizon_alert(_calendar(), date(2026, 12, 1), 20) is None
    assert horizon_alert(_calendar(), date(2026, 10, 9), 20) is None


def test_horizon_alert__first_of_several_unconfirmed_years() -> None:
    assert horizon_alert(WorkdayCalendar(_year(2025), [2025]), date(2025, 12, 1), 400) == 2026


def test_calendar__confirmed_year_must_be_complete() -> None:
    with pytest.raises(ValueError, match="2025"):
        WorkdayCalendar(_year(2025)[:-1], [2025])


def test_calendar__duplicate_rows_rejected() -> None:
    rows = _year(2025)
    with pytest.raises(ValueError, match="duplicate"):
        WorkdayCalendar([*rows, rows[0]], [2025])


def test_calendar__unconfirmed_row_in_confirmed_year_rejected() -> None:
    rows = _year(2025)
    rows[10] = _plain(rows[10].on, confirmed=False)
    with pytest.raises(ValueError, match="not confirmed"):
        WorkdayCalendar(rows, [2025])


@pytest.mark.parametrize(
    ("on", "is_workday", "kind"),
    [
        (date(2025, 10, 1), True, DayKind.HOLIDAY),  # kind says rest, flag says work
        (date(2025, 10, 9), False, DayKind.WORKDAY),
        (date(2025, 10, 9), True, DayKind.ADJUSTED_WORKDAY),  # a Thursday
        (date(2025, 10, 11), True, DayKind.WORKDAY),  # a working Saturday is ADJUSTED_WORKDAY
        (date(2025, 10, 9), False, DayKind.WEEKEND),
    ],
)
def test_calendar_day__inconsistent_kind_rejected(on: date, is_workday: bool, kind: DayKind) -> None:
    with pytest.raises(ValueError):
        CalendarDay(on, is_workday, kind, None, "test", True)


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30)),
    n=st.integers(min_value=1, max_value=400),
)
def test_add_workdays__lands_on_workday_n_days_later(start: date, n: int) -> None:
    cal = _calendar()
    deadline = cal.add_workdays(start, n)
    assert deadline.due_on > start
    assert cal.is_workday(deadline.due_on)
    assert cal.workdays_between(start, deadline.due_on) == n
    assert cal.workdays_between(start, deadline.due_on - timedelta(days=1)) == n - 1
    assert deadline.provisional == (deadline.due_on.year >= 2027)
    assert deadline.unconfirmed_years == frozenset(range(max(start.year, 2027), deadline.due_on.year + 1))
