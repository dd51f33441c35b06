"""Verification codes a graduate makes for an employer (issue 8 §6): one code verifies one
certificate, without the name, until it expires or the graduate revokes it.

Pure: the random bytes and the clock are arguments.

A code is 12 characters of RFC 4648 base32 (A–Z, 2–7): 60 bits from ``secrets``, beyond
guessing at the public endpoint's rate limit (30 a minute per client: 2^60 / 30 is 7·10^16
minutes), short enough to read out on a phone and type (grouped 4-4-4 for people, any grouping,
case and spacing accepted back). Base32 rather than decimal: 12 digits would give 40 bits.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

CODE_LENGTH = 12
CODE_BYTES = 8  # 64 bits drawn; base32 of 8 bytes is 13 characters, the first 12 (60 bits) kept
MIN_VALID_DAYS = 1
MAX_VALID_DAYS = 90

_CODE = re.compile(r"[A-Z2-7]{12}")
_SEPARATORS = re.compile(r"[\s\-]")


def code_from_random(random_bytes: bytes) -> str:
    """A code from ``CODE_BYTES`` random bytes (``secrets.token_bytes(CODE_BYTES)``)."""
    if len(random_bytes) != CODE_BYTES:
        raise ValueError(f"a code is made from {CODE_BYTES} random bytes")
    return base64.b32encode(random_bytes).decode()[:CODE_LENGTH]


def normalise_code(typed: str) -> str | None:
    """The code as stored, from what a person typed (case, spaces and dashes ignored); None when
    it cannot be a code, so a malformed one is never looked up."""
    code = _SEPARATORS.sub("", typed).upper()
    return code if _CODE.fullmatch(code) else None


def grouped(code: str) -> str:
    """ABCD-EFGH-JKLM: how a code is shown to people."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_expiry(created_at: datetime, valid_days: int) -> datetime:
    if not MIN_VALID_DAYS <= valid_days <= MAX_VALID_DAYS:
        raise ValueError(f"a code is valid for {MIN_VALID_DAYS} to {MAX_VALID_DAYS} days")
    return created_at + timedelta(days=valid_days)


def is_code_live(*, expires_at: datetime, revoked: bool, now: datetime) -> bool:
    """A code verifies until the instant it expires (exclusive) unless it was revoked."""
    return not revoked and now < expires_at


def may_share(certificate_status: str) -> bool:
    """Only a valid certificate gets a code: a voided or lost one has nothing to vouch for (a
    graduate whose certificate was lost shares the 学历证明书 that replaced it)."""
    return certificate_status == "valid"
