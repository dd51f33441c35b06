"""Verification codes as plain values (domain/verification_code.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.verification_code import (
    CODE_BYTES,
    CODE_LENGTH,
    code_expiry,
    code_from_random,
    grouped,
    is_code_live,
    may_share,
    normalise_code,
)

NOW = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)


@given(st.binary(min_size=CODE_BYTES, max_size=CODE_BYTES))
def test_code_from_random__twelve_base32_characters_read_back(random_bytes: bytes) -> None:
    code = code_from_random(random_bytes)
    assert len(code) == CODE_LENGTH
    assert normalise_code(code) == code
    assert normalise_code(grouped(code).lower()) == code
    assert normalise_code(" " + grouped(code).replace("-", " ") + " ") == code


def test_code_from_random__refuses_too_few_bytes() -> None:
    with pytest.raises(ValueError):
        code_from_random(b"\x00" * (CODE_BYTES - 1))


@pytest.mark.parametrize(
    "typed", ["", "ABCD", "ABCDEFGHJKLM0", "ABCDEFGHJKL1", "ABCDEFGHJKLMN", "ABCD'EFGHJKL"]
)
def test_normalise_code__not_a_code(typed: str) -> None:
    assert normalise_code(typed) is None


def test_grouped__4_4_4() -> None:
    assert grouped("ABCDEFGHJKLM") == "ABCD-EFGH-JKLM"


@pytest.mark.parametrize("days", [0, 91, -1])
def test_code_expiry__1_to_90_days(days: int) -> None:
    with pytest.raises(ValueError):
        code_expiry(NOW, days)


def test_code_expiry__days_from_creation() -> None:
    assert code_expiry(NOW, 90) == NOW + timedelta(days=90)


def test_is_code_live__until_the_instant_it_expires() -> None:
    expires = NOW + timedelta(days=1)
    assert is_code_live(expires_at=expires, revoked=False, now=expires - timedelta(microseconds=1))
    assert not is_code_live(expires_at=expires, revoked=False, now=expires)


def test_is_code_live__revoked_is_dead_at_once() -> None:
    assert not is_code_live(expires_at=NOW + timedelta(days=30), revoked=True, now=NOW)


@pytest.mark.parametrize(("status", "shareable"), [("valid", True), ("voided", False), ("lost", False)])
def test_may_share__only_a_valid_certificate(status: str, shareable: bool) -> None:
    assert may_share(status) is shareable
