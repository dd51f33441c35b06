"""The result rules: position first, then every cheating sign and the face."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.cheating_signals import Signals
from services.checkin.domain.check_in_result import (
    CheckInResult,
    PositionVerdict,
    decide,
    position_verdict,
)
from services.checkin.domain.face_policy import face_check_needed, in_sample
from services.checkin.domain.geofence import Placement, Where
from services.checkin.domain.reasons import MAX_TRUSTED_ACCURACY_M, Reason, reason_texts

INSIDE = Placement(Where.INSIDE, True, 100.0)
OUTSIDE = Placement(Where.OUTSIDE, False, 100.0)
NORMAL = PositionVerdict(CheckInResult.NORMAL)
OFF = PositionVerdict(CheckInResult.OFF_CAMPUS, (Reason.OUTSIDE_CAMPUS,))
CHEATING_SIGNS = st.lists(
    st.sampled_from([Reason.EMULATOR, Reason.MOCK_LOCATION, Reason.SELFIE_REPLAYED, Reason.IMPOSSIBLE_SPEED]),
    min_size=1,
    unique=True,
)
FACES = st.sampled_from([None, "match", "no_match", "no_face", "several_faces", "poor_image", "no_template"])


def test_inside_is_normal_outside_is_off_campus_or_internship() -> None:
    assert position_verdict(INSIDE, 10, on_internship=False) == NORMAL
    assert position_verdict(INSIDE, 10, on_internship=True) == NORMAL
    assert position_verdict(OUTSIDE, 10, on_internship=False) == OFF
    assert position_verdict(OUTSIDE, 10, on_internship=True) == PositionVerdict(
        CheckInResult.INTERNSHIP, (Reason.ON_INTERNSHIP,)
    )


@given(st.floats(min_value=0.1, max_value=MAX_TRUSTED_ACCURACY_M), st.booleans(), st.booleans())
def test_a_straddling_fix_is_never_called_off_campus_on_that_alone(
    accuracy: float, centre_inside: bool, on_internship: bool
) -> None:
    verdict = position_verdict(
        Placement(Where.STRADDLES, centre_inside, accuracy / 2), accuracy, on_internship
    )
    assert verdict == PositionVerdict(CheckInResult.NORMAL, (Reason.BOUNDARY_UNCERTAIN,))


def test_a_coarse_fix_straddling_is_judged_by_its_centre() -> None:
    coarse = MAX_TRUSTED_ACCURACY_M * 10
    assert (
        position_verdict(Placement(Where.STRADDLES, True, 50), coarse, False).result is CheckInResult.NORMAL
    )
    verdict = position_verdict(Placement(Where.STRADDLES, False, 50), coarse, False)
    assert verdict == PositionVerdict(
        CheckInResult.OFF_CAMPUS, (Reason.OUTSIDE_CAMPUS, Reason.ACCURACY_TOO_COARSE)
    )


@given(st.sampled_from([NORMAL, OFF]), CHEATING_SIGNS, FACES, st.booleans())
def test_any_cheating_sign_is_suspected_cheating_whatever_else(
    position: PositionVerdict, signs: list[Reason], face: str | None, shared: bool
) -> None:
    decision = decide(position, Signals(tuple(signs), shared_device=shared), face)
    assert decision.result is CheckInResult.SUSPECTED_CHEATING
    assert set(signs) <= set(decision.reasons)
    assert not decision.final


@given(st.sampled_from(["no_match", "no_face", "several_faces", "poor_image"]), st.booleans())
def test_a_face_that_is_not_the_students_is_suspected_cheating(face: str, shared: bool) -> None:
    decision = decide(NORMAL, Signals(shared_device=shared), face)
    assert decision.result is CheckInResult.SUSPECTED_CHEATING
    assert (Reason.SHARED_DEVICE in decision.reasons) == shared
    assert Reason("face_" + face) in decision.reasons


@given(st.booleans(), st.booleans())
def test_suspicions_confirmed_by_a_matching_face_leave_the_position_result(
    shared: bool, rooted: bool
) -> None:
    assert decide(NORMAL, Signals(shared_device=shared, rooted=rooted), "match") == decide(
        NORMAL, Signals(), None
    )
    assert (
        decide(OFF, Signals(shared_device=shared, rooted=rooted), "match").result is CheckInResult.OFF_CAMPUS
    )


def test_no_enrolled_face_is_decided_on_the_rest_with_a_note() -> None:
    decision = decide(NORMAL, Signals(), "no_template")
    assert decision.result is CheckInResult.NORMAL
    assert decision.reasons == (Reason.FACE_NOT_ENROLLED,)


def test_normal_and_internship_are_final_the_others_replaceable() -> None:
    assert {r for r in CheckInResult if r.final} == {CheckInResult.NORMAL, CheckInResult.INTERNSHIP}
    assert [r.text for r in CheckInResult] == ["正常", "正在实习", "不在校区", "疑似作弊"]


def test_every_reason_has_a_chinese_text() -> None:
    texts = reason_texts([r.value for r in Reason] + ["legacy_code"])
    assert all(text and text != code for text, code in zip(texts, Reason, strict=False))
    assert texts[-1] == "legacy_code"


@given(st.floats(min_value=0.0, max_value=1.0))
def test_suspicious_attempts_and_every_policy_always_get_a_face_check(rate: float) -> None:
    check_in_id = uuid.uuid4()
    assert face_check_needed("sampled", rate, check_in_id, suspicious=True)
    assert face_check_needed("every", rate, check_in_id, suspicious=False)


def test_the_sample_is_deterministic_and_near_its_rate() -> None:
    ids = [uuid.UUID(int=i * 7919 + 13) for i in range(20_000)]
    first = [in_sample(i, 0.1) for i in ids]
    assert first == [in_sample(i, 0.1) for i in ids]
    assert 0.09 < sum(first) / len(ids) < 0.11
    assert not any(in_sample(i, 0.0) for i in ids[:100])
    assert all(in_sample(i, 1.0) for i in ids[:100])
