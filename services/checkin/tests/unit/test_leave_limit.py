"""The 15-days-per-term count (domain/leave_limit.py): days are counted once, in their own term,
and an early 销假 shortens the leave."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.leave_limit import (
    LEAVE_LIMIT_DAYS,
    exceeds_leave_limit,
    leave_days_per_term,
    terms_of,
)
from services.checkin.domain.leave_request import LeaveSpan, taken_span
from services.checkin.domain.terms import term_bounds, term_of

days = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 9, 30))


@st.composite
def spans(draw: st.DrawFn) -> LeaveSpan:
    first = draw(days)
    return LeaveSpan(first, first + timedelta(days=draw(st.integers(0, 60))))


def _days_in(span: LeaveSpan, first: date, last: date) -> set[date]:
    """The days of ``span`` inside [first, last], by plain date arithmetic."""
    lo, hi = max(span.first, first), min(span.last, last)
    return {lo + timedelta(days=i) for i in range((hi - lo).days + 1)} if lo <= hi else set()


def test_leave_days_per_term__across_the_winter_boundary() -> None:
    # 25 Jan – 5 Feb 2027: 7 days of the autumn term that started in 2026, 5 of spring 2027.
    counted = leave_days_per_term([LeaveSpan(date(2027, 1, 25), date(2027, 2, 5))], term_of)
    assert counted == {"2026-autumn": 7, "2027-spring": 5}


def test_leave_days_per_term__across_the_summer_boundary() -> None:
    counted = leave_days_per_term([LeaveSpan(date(2026, 7, 30), date(2026, 8, 2))], term_of)
    assert counted == {"2026-spring": 2, "2026-autumn": 2}


def test_leave_days_per_term__overlapping_leaves_count_each_day_once() -> None:
    counted = leave_days_per_term(
        [LeaveSpan(date(2026, 9, 1), date(2026, 9, 10)), LeaveSpan(date(2026, 9, 5), date(2026, 9, 14))],
        term_of,
    )
    assert counted == {"2026-autumn": 14}


def test_exceeds_leave_limit__fifteen_is_allowed_sixteen_is_not() -> None:
    assert LEAVE_LIMIT_DAYS == 15
    assert not exceeds_leave_limit(15)
    assert exceeds_leave_limit(16)


def test_taken_span__early_end_cuts_late_end_does_not_lengthen() -> None:
    assert taken_span(date(2026, 9, 1), date(2026, 9, 20), date(2026, 9, 4)) == LeaveSpan(
        date(2026, 9, 1), date(2026, 9, 4)
    )
    assert taken_span(date(2026, 9, 1), date(2026, 9, 20), date(2026, 9, 30)).last == date(2026, 9, 20)
    assert taken_span(date(2026, 9, 1), date(2026, 9, 20), None).last == date(2026, 9, 20)


@given(st.lists(spans(), max_size=6))
def test_leave_days_per_term__equals_the_days_inside_each_terms_bounds(leaves: list[LeaveSpan]) -> None:
    counted = leave_days_per_term(leaves, term_of)
    for year in (2024, 2025, 2026, 2027):
        for season in ("spring", "autumn"):
            first, last = term_bounds(year, season)
            expected = set().union(*(_days_in(span, first, last) for span in leaves)) if leaves else set()
            assert counted.get(f"{year}-{season}", 0) == len(expected)


@given(st.lists(spans(), min_size=1, max_size=6))
def test_leave_days_per_term__a_leave_listed_twice_counts_once(leaves: list[LeaveSpan]) -> None:
    assert leave_days_per_term(leaves + leaves[:1], term_of) == leave_days_per_term(leaves, term_of)


@given(spans(), st.integers(0, 60))
def test_taken_span__ending_early_never_adds_days(span: LeaveSpan, back_after: int) -> None:
    ended_on = span.first + timedelta(days=back_after)
    full = sum(leave_days_per_term([span], term_of).values())
    taken = taken_span(span.first, span.last, ended_on)
    early = sum(leave_days_per_term([taken], term_of).values())
    assert early == min(full, back_after + 1)


@given(spans())
def test_terms_of__are_the_terms_of_its_first_and_last_day(span: LeaveSpan) -> None:
    # At most 61 days: a leave touches its first day's term and its last day's, nothing between.
    assert terms_of(span, term_of) == {term_of(span.first), term_of(span.last)}
