from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain.face_consent import (
    ConsentDecision,
    may_capture_face,
    may_verify_in_person,
)
from services.identity.domain.face_match import MATCH_THRESHOLD, is_same_person, may_be_proxy_account
from services.identity.domain.face_quality import (
    DEFAULT_THRESHOLDS,
    REFUSAL_TEXT,
    FaceMeasurements,
    PhotoRefusal,
    photo_refusal,
)

GOOD = FaceMeasurements(
    face_count=1, face_width_px=150, inside_frame=True, sharpness=400, brightness=130, yaw=0.05
)


def test_photo_refusal__a_good_photo_passes() -> None:
    assert photo_refusal(GOOD) is None


def test_photo_refusal__each_failure_has_its_reason() -> None:
    from dataclasses import replace

    cases = {
        PhotoRefusal.NO_FACE: replace(GOOD, face_count=0),
        PhotoRefusal.SEVERAL_FACES: replace(GOOD, face_count=3),
        PhotoRefusal.FACE_CUT_OFF: replace(GOOD, inside_frame=False),
        PhotoRefusal.FACE_TOO_SMALL: replace(GOOD, face_width_px=40),
        PhotoRefusal.BLURRY: replace(GOOD, sharpness=5),
        PhotoRefusal.TOO_DARK: replace(GOOD, brightness=10),
        PhotoRefusal.TOO_BRIGHT: replace(GOOD, brightness=250),
        PhotoRefusal.NOT_FRONTAL: replace(GOOD, yaw=0.8),
    }
    assert {photo_refusal(m) for m in cases.values()} == set(PhotoRefusal)
    for reason, measurements in cases.items():
        assert photo_refusal(measurements) is reason


def test_photo_refusal__every_reason_is_explained_in_both_languages() -> None:
    assert set(REFUSAL_TEXT) == set(PhotoRefusal)
    assert all(en and zh for en, zh in REFUSAL_TEXT.values())


@given(st.integers(min_value=2, max_value=50), st.booleans(), st.integers(0, 1000))
def test_photo_refusal__several_faces_win_over_everything_else(count: int, inside: bool, width: int) -> None:
    measurements = FaceMeasurements(face_count=count, face_width_px=width, inside_frame=inside)
    assert photo_refusal(measurements) is PhotoRefusal.SEVERAL_FACES


@given(
    st.integers(DEFAULT_THRESHOLDS.min_face_px, 2000),
    st.floats(DEFAULT_THRESHOLDS.min_sharpness, 1e5),
    st.floats(DEFAULT_THRESHOLDS.min_brightness, DEFAULT_THRESHOLDS.max_brightness),
    st.floats(0, DEFAULT_THRESHOLDS.max_yaw),
)
def test_photo_refusal__inside_every_threshold_passes(
    width: int, sharp: float, bright: float, yaw: float
) -> None:
    assert photo_refusal(FaceMeasurements(1, width, True, sharp, bright, yaw)) is None


@given(st.floats(0, 2))
def test_is_same_person__exactly_below_the_threshold(distance: float) -> None:
    assert is_same_person(distance) == (distance < MATCH_THRESHOLD)
    assert may_be_proxy_account(distance) == is_same_person(distance)


def test_is_same_person__on_the_threshold_is_refused() -> None:
    assert not is_same_person(MATCH_THRESHOLD)


def test_face_consent__no_decision_allows_neither_route() -> None:
    assert not may_capture_face(None) and not may_verify_in_person(None)
    assert may_capture_face(ConsentDecision.GRANTED) and not may_verify_in_person(ConsentDecision.GRANTED)
    assert may_verify_in_person(ConsentDecision.DECLINED) and not may_capture_face(ConsentDecision.DECLINED)
