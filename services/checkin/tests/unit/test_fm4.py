"""FM4 学籍空挂 (domain/fm4.py): called to a round in the last three months, no valid check-in."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.fm4 import PresenceRecord, is_hollow_record, window_start

TODAY = date(2026, 11, 27)


def record(
    *,
    check_in: date | None = None,
    miss: date | None = None,
    status: str = "in_school",
    form: str = "full_time",
) -> PresenceRecord:
    return PresenceRecord(status, form, check_in, miss)


def test_window_start__three_calendar_months_back() -> None:
    assert window_start(date(2026, 11, 27)) == date(2026, 8, 27)
    assert window_start(date(2026, 2, 15)) == date(2025, 11, 15)


def test_window_start__clamps_to_the_shorter_month() -> None:
    assert window_start(date(2026, 5, 31)) == date(2026, 2, 28)
    assert window_start(date(2028, 5, 31)) == date(2028, 2, 29)


def test_is_hollow_record__missed_and_never_present() -> None:
    assert is_hollow_record(record(miss=date(2026, 10, 10)), TODAY)


def test_is_hollow_record__a_valid_check_in_in_the_window_clears_it() -> None:
    assert not is_hollow_record(record(miss=date(2026, 11, 1), check_in=date(2026, 9, 1)), TODAY)


def test_is_hollow_record__a_check_in_before_the_window_does_not() -> None:
    assert is_hollow_record(record(miss=date(2026, 11, 1), check_in=date(2026, 8, 26)), TODAY)


def test_is_hollow_record__not_called_is_not_counted() -> None:
    assert not is_hollow_record(record(), TODAY)
    assert not is_hollow_record(record(miss=date(2026, 8, 26)), TODAY)  # the miss is older


def test_is_hollow_record__only_full_time_students_in_school() -> None:
    assert not is_hollow_record(record(miss=date(2026, 10, 10), form="part_time"), TODAY)
    assert not is_hollow_record(record(miss=date(2026, 10, 10), status="suspended"), TODAY)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_window_start__about_three_months_and_never_after_today(today: date) -> None:
    start = window_start(today)
    assert timedelta(days=89) <= today - start <= timedelta(days=92)
    assert start.day <= today.day


@given(
    st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=TODAY)),
    st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=TODAY)),
)
def test_is_hollow_record__exactly_called_and_absent_in_the_window(
    check_in: date | None, miss: date | None
) -> None:
    since = window_start(TODAY)
    expected = (miss is not None and miss >= since) and not (check_in is not None and check_in >= since)
    assert is_hollow_record(record(check_in=check_in, miss=miss), TODAY) == expected
