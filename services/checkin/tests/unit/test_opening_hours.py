from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.opening_hours import within_opening_hours
from shared.china_time import CHINA


def test_within_opening_hours__seven_in_the_morning_china_time_is_open() -> None:
    assert within_opening_hours(datetime(2026, 11, 27, 7, 0, tzinfo=CHINA))


def test_within_opening_hours__just_before_seven_is_closed() -> None:
    assert not within_opening_hours(datetime(2026, 11, 27, 6, 59, 59, tzinfo=CHINA))


def test_within_opening_hours__eleven_at_night_has_closed() -> None:
    assert within_opening_hours(datetime(2026, 11, 27, 22, 59, 59, tzinfo=CHINA))
    assert not within_opening_hours(datetime(2026, 11, 27, 23, 0, tzinfo=CHINA))


def test_within_opening_hours__utc_is_converted_to_china_time() -> None:
    # 23:30 UTC is 07:30 the next morning in Shanghai; 15:30 UTC is 23:30 there.
    assert within_opening_hours(datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    assert not within_opening_hours(datetime(2026, 11, 27, 15, 30, tzinfo=UTC))


def test_within_opening_hours__a_province_may_configure_other_hours() -> None:
    at = datetime(2026, 11, 27, 6, 30, tzinfo=CHINA)
    assert within_opening_hours(at, opens=time(6), closes=time(22))
    assert not within_opening_hours(at.replace(hour=22, minute=15), opens=time(6), closes=time(22))


def test_within_opening_hours__a_window_over_midnight() -> None:
    assert within_opening_hours(datetime(2026, 11, 27, 1, 0, tzinfo=CHINA), opens=time(20), closes=time(2))
    assert not within_opening_hours(
        datetime(2026, 11, 27, 3, 0, tzinfo=CHINA), opens=time(20), closes=time(2)
    )


def test_within_opening_hours__naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        within_opening_hours(datetime(2026, 11, 27, 12, 0))


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=-12, max_value=14),
)
def test_within_opening_hours__the_same_instant_in_any_zone_gives_the_same_answer(
    at: datetime, offset_hours: int
) -> None:
    other = at.astimezone(timezone(timedelta(hours=offset_hours)))
    local = at.astimezone(CHINA).time()
    assert within_opening_hours(other) == within_opening_hours(at) == (time(7) <= local < time(23))
