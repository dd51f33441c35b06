"""Deadlines of review steps (domain/deadlines.py; seed 004 art. 12: 10 working days), over
calendars with holidays and make-up working weekends (调休)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.transfer.domain.deadlines import (
    REVIEW_WORKDAYS,
    expires_on,
    expiry_opinion,
    has_expired,
    is_overdue,
    review_due,
    superior_of,
    superior_org,
    workdays_overdue,
)
from services.transfer.domain.review_levels import CaseLineage, OrgLineage, ReviewLevel
from shared.workdays import CalendarDay, DayKind, WorkdayCalendar

YEAR = 2031  # a year no real schedule exists for: every rest day below is the test's own
ONE_DAY = timedelta(days=1)


def calendar_of(holidays: frozenset[date], make_up_days: frozenset[date]) -> WorkdayCalendar:
    """``YEAR`` confirmed: weekdays in ``holidays`` off, weekend days in ``make_up_days`` worked."""
    rows = []
    on = date(YEAR, 1, 1)
    while on.year == YEAR:
        weekend = on.weekday() >= 5
        if on in holidays:
            kind = DayKind.HOLIDAY
        elif weekend:
            kind = DayKind.ADJUSTED_WORKDAY if on in make_up_days else DayKind.WEEKEND
        else:
            kind = DayKind.WORKDAY
        working = kind in (DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY)
        rows.append(CalendarDay(on, working, kind, None, "test", confirmed=True))
        on += ONE_DAY
    return WorkdayCalendar(rows, [YEAR])


# National Day week 2031 as the State Council might set it: Wed 1 – Tue 7 October off, the
# Saturdays before and after (27 September, 11 October) worked.
NATIONAL_DAY = frozenset(date(YEAR, 10, day) for day in range(1, 8))
MAKE_UP = frozenset({date(YEAR, 9, 27), date(YEAR, 10, 11)})
GOLDEN_WEEK = calendar_of(NATIONAL_DAY, MAKE_UP)


def is_working(on: date, holidays: frozenset[date], make_up_days: frozenset[date]) -> bool:
    """The oracle, written from the definition rather than through the calendar."""
    if on in holidays:
        return False
    if on in make_up_days:
        return True
    return on.weekday() < 5


def days_of_year() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR, 12, 31))


holiday_sets = st.frozensets(days_of_year().filter(lambda d: d.weekday() < 5), max_size=40)
make_up_sets = st.frozensets(days_of_year().filter(lambda d: d.weekday() >= 5), max_size=15)
began = st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR, 11, 30))


def test_review_due__the_holiday_week_is_not_counted_and_the_make_up_saturday_is() -> None:
    # Waiting from Tue 30 Sep: 8, 9, 10, Sat 11, 13…17, Mon 20 October.
    assert review_due(date(YEAR, 9, 30), GOLDEN_WEEK).due_on == date(YEAR, 10, 20)
    # From Fri 26 Sep the make-up Saturday 27 Sep is the first of the ten.
    assert review_due(date(YEAR, 9, 26), GOLDEN_WEEK).due_on == date(YEAR, 10, 15)
    # Without the holidays the same start is due six days earlier.
    assert review_due(date(YEAR, 9, 30), calendar_of(frozenset(), frozenset())).due_on == date(YEAR, 10, 14)


def test_review_due__beyond_the_loaded_years_is_provisional() -> None:
    deadline = review_due(date(YEAR, 12, 24), GOLDEN_WEEK)
    assert deadline.provisional and deadline.unconfirmed_years == frozenset({YEAR + 1})
    assert not review_due(date(YEAR, 9, 30), GOLDEN_WEEK).provisional


@given(holiday_sets, make_up_sets, began)
def test_review_due__is_the_tenth_working_day_after_the_start(
    holidays: frozenset[date], make_up_days: frozenset[date], start: date
) -> None:
    due = review_due(start, calendar_of(holidays, make_up_days)).due_on
    assert due > start
    assert is_working(due, holidays, make_up_days)
    counted = [d for d in (start + ONE_DAY * i for i in range(1, (due - start).days + 1))]
    assert sum(is_working(d, holidays, make_up_days) for d in counted) == REVIEW_WORKDAYS
    # Ten working days never take fewer than ten calendar days (the sweeper's pre-filter).
    assert (due - start).days >= REVIEW_WORKDAYS


@given(holiday_sets, make_up_sets, began, st.integers(min_value=0, max_value=60))
def test_is_overdue__from_the_day_after_the_due_date(
    holidays: frozenset[date], make_up_days: frozenset[date], start: date, days_later: int
) -> None:
    cal = calendar_of(holidays, make_up_days)
    due = review_due(start, cal).due_on
    on = start + ONE_DAY * days_later
    assert is_overdue(due, on) == (on > due)
    late = workdays_overdue(due, on, cal)
    assert late >= 0
    assert (late > 0) <= is_overdue(due, on)  # late working days only once overdue
    # The same day one working day later adds exactly one more (a rest day adds none).
    following = on + ONE_DAY
    step = workdays_overdue(due, following, cal) - late
    assert step == (1 if following > due and is_working(following, holidays, make_up_days) else 0)


@given(holiday_sets, make_up_sets, began, st.integers(min_value=1, max_value=30))
def test_expires_on__the_given_working_days_after_the_due_date(
    holidays: frozenset[date], make_up_days: frozenset[date], start: date, expiry: int
) -> None:
    cal = calendar_of(holidays, make_up_days)
    due = review_due(start, cal).due_on
    last_day = expires_on(due, cal, expiry)
    assert last_day is not None and last_day > due
    assert cal.workdays_between(due, last_day) == expiry
    assert is_working(last_day, holidays, make_up_days)
    assert not has_expired(due, last_day, cal, expiry)
    assert has_expired(due, last_day + ONE_DAY, cal, expiry)
    # An expiring step is always an overdue one: the superior was told first.
    assert is_overdue(due, last_day + ONE_DAY)


def test_expires_on__ten_working_days_after_the_due_date_by_default_example() -> None:
    due = date(YEAR, 10, 20)
    assert expires_on(due, GOLDEN_WEEK, 10) == date(YEAR, 11, 3)
    assert not has_expired(due, date(YEAR, 11, 3), GOLDEN_WEEK, 10)
    assert has_expired(due, date(YEAR, 11, 4), GOLDEN_WEEK, 10)


@given(st.dates(min_value=date(YEAR, 1, 1), max_value=date(YEAR + 5, 1, 1)))
def test_has_expired__never_when_expiry_is_zero(on: date) -> None:
    assert expires_on(date(YEAR, 1, 2), GOLDEN_WEEK, 0) is None
    assert not has_expired(date(YEAR, 1, 2), on, GOLDEN_WEEK, 0)


def test_expires_on__a_negative_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="expiry_workdays"):
        expires_on(date(YEAR, 1, 2), GOLDEN_WEEK, -1)


LINEAGE = CaseLineage(
    origin=OrgLineage("37", "3701", "370102", "3737010001"),
    destination=OrgLineage("41", "4101", "410102", "4141010001"),
)


@pytest.mark.parametrize(
    ("level", "rank", "org"),
    [
        (ReviewLevel.DEST_SCHOOL, "county", "410102"),
        (ReviewLevel.DEST_COUNTY, "city", "4101"),
        (ReviewLevel.DEST_CITY, "province", "41"),
        (ReviewLevel.DEST_PROVINCE, "ministry", None),
        (ReviewLevel.ORIGIN_SCHOOL, "county", "370102"),
        (ReviewLevel.ORIGIN_COUNTY, "city", "3701"),
        (ReviewLevel.ORIGIN_CITY, "province", "37"),
        (ReviewLevel.ORIGIN_PROVINCE, "ministry", None),
    ],
)
def test_superior_of__the_office_one_rank_up_on_the_levels_side(
    level: ReviewLevel, rank: str, org: str | None
) -> None:
    assert superior_of(level) == rank
    assert superior_org(level, LINEAGE) == org


def test_superior_org__unknown_while_the_origins_place_is_unknown() -> None:
    unchecked = CaseLineage(origin=OrgLineage("37", None, None, None), destination=LINEAGE.destination)
    assert superior_org(ReviewLevel.ORIGIN_SCHOOL, unchecked) is None


def test_expiry_opinion__names_the_late_office_and_the_due_date() -> None:
    assert expiry_opinion(ReviewLevel.DEST_SCHOOL, date(YEAR, 10, 20)) == (
        "转入学校逾期未核办（应于2031-10-20前办理），申请超期终止"
    )
