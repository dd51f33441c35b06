"""Cheating signs and suspicions from one attempt and the student's previous one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.cheating_signals import (
    MAX_SPEED_KMH,
    MIN_JUMP_M,
    SHARED_DEVICE_STUDENTS,
    Fix,
    impossible_speed,
    shared_device,
    signals_of,
)
from services.checkin.domain.geofence import LocalProjection
from services.checkin.domain.reasons import Reason

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LAT, LON = 34.7466, 113.6253
M_PER_DEG = LocalProjection.at(LAT, LON).metres_per_deg_lat


def fix(north_m: float, after: timedelta, accuracy: float = 10.0) -> Fix:
    return Fix(LAT + north_m / M_PER_DEG, LON, accuracy, T0 + after)


@given(st.floats(min_value=MIN_JUMP_M * 1.5, max_value=2_000_000), st.floats(min_value=1.05, max_value=50))
def test_a_jump_faster_than_the_limit_is_impossible(jump_m: float, factor: float) -> None:
    seconds = jump_m / (MAX_SPEED_KMH * factor / 3.6)
    assert impossible_speed(fix(0, timedelta()), fix(jump_m + 20, timedelta(seconds=seconds)))


@given(st.floats(min_value=MIN_JUMP_M * 1.5, max_value=2_000_000), st.floats(min_value=0.1, max_value=0.95))
def test_a_jump_slower_than_the_limit_is_travel(jump_m: float, factor: float) -> None:
    seconds = (jump_m + 20) / (MAX_SPEED_KMH * factor / 3.6)
    assert not impossible_speed(fix(0, timedelta()), fix(jump_m, timedelta(seconds=seconds)))


@given(st.floats(min_value=0, max_value=MIN_JUMP_M * 0.99), st.floats(min_value=0, max_value=600))
def test_gps_jitter_is_not_speed_however_quick(jump_m: float, seconds: float) -> None:
    assert not impossible_speed(fix(0, timedelta()), fix(jump_m, timedelta(seconds=seconds), accuracy=0.0))


def test_the_accuracy_radii_are_taken_off_the_jump() -> None:
    # 1.5 km in a second looks impossible — unless each fix may be 800 m off.
    assert impossible_speed(fix(0, timedelta()), fix(1500, timedelta(seconds=1), accuracy=0))
    assert not impossible_speed(fix(0, timedelta(), 800), fix(1500, timedelta(seconds=1), accuracy=800))


def test_no_previous_attempt_no_speed() -> None:
    assert not impossible_speed(None, fix(0, timedelta()))


def test_a_device_becomes_shared_at_the_threshold() -> None:
    assert not shared_device(SHARED_DEVICE_STUDENTS - 2)
    assert shared_device(SHARED_DEVICE_STUDENTS - 1)


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 5))
def test_signals_name_each_sign_and_rooted_or_shared_only_ask_for_a_face(
    emulator: bool, mock: bool, rooted: bool, replay: bool, others: int
) -> None:
    signals = signals_of(
        emulator=emulator,
        mock_location=mock,
        rooted=rooted,
        selfie_seen_before=replay,
        previous=None,
        current=fix(0, timedelta()),
        other_students_on_device=others,
    )
    expected = [
        r
        for r, on in (
            (Reason.EMULATOR, emulator),
            (Reason.MOCK_LOCATION, mock),
            (Reason.SELFIE_REPLAYED, replay),
        )
        if on
    ]
    assert list(signals.cheating) == expected
    assert signals.shared_device == shared_device(others)
    assert signals.suspicious == bool(expected or rooted or shared_device(others))
