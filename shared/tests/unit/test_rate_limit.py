"""The rate-limit decision as plain values (shared/rate_limit.py ``decide``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.rate_limit import decide


@given(st.integers(1, 1000), st.integers(1, 60), st.integers(1, 100))
def test_decide__allowed_up_to_the_limit_then_told_when(count: int, ttl: int, limit: int) -> None:
    decision = decide(count, ttl, limit=limit, window_seconds=60)
    assert decision.allowed == (count <= limit)
    assert decision.retry_after == (0 if count <= limit else ttl)


def test_decide__a_lost_ttl_waits_a_whole_window_never_zero() -> None:
    for ttl in (-1, -2, 0, 61):
        decision = decide(5, ttl, limit=3, window_seconds=60)
        assert not decision.allowed
        assert decision.retry_after == 60
