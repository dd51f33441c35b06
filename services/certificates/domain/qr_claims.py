"""What a certificate's QR code says, and how it fits in a QR that any phone camera opens.

Issue 8 "Electronic certificate": the QR carries a compact signed payload (number, name, school,
date, outcome) that a verifier holding the province's public key checks offline. The claims are
CBOR with small integer keys and coded values, because every byte costs QR modules: STACK.md
"Certificates" measured COSE over CBOR at QR version 11–12 (error correction M) where JWS needs
16–18. Outside the QR the payload is base32 (upper case, no padding) after an upper-case https
URL: QR's alphanumeric mode holds exactly 0–9, A–Z and `` $%*+-./:``, so the whole URL costs
5.5 bits a character instead of 8, and a camera app still opens it as a link.

Pure: no keys, no clock. Signing is ``signing/qr_payload.py``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import cbor2

from shared.events.certificates import CertificateKind, GraduationOutcome

# Integer keys of the claims map. Never renumber: printed certificates carry them for decades.
# A new claim takes a new key; readers ignore keys they do not know.
NUMBER, NAME, SCHOOL_NAME, ISSUED_ON, OUTCOME, KIND, PROVINCE = 1, 2, 3, 4, 5, 6, 7

# 毕业 / 结业 / 肄业, as codes (enrollment's status names are 9–23 bytes each).
OUTCOME_CODES: dict[GraduationOutcome, int] = {"graduated": 1, "completed": 2, "left_without_completing": 3}
KIND_CODES: dict[CertificateKind, int] = {"graduation": 1, "education_certificate": 2}
_EPOCH = date(1970, 1, 1)

# QR alphanumeric mode (ISO/IEC 18004 §7.4.4): what the URL may hold to stay in that mode.
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# Far above any sealed certificate (about 200 bytes, 320 characters); bounds the work a hostile
# request can ask for before the signature is even looked at.
MAX_PAYLOAD_CHARS = 1200

RefusalKind = Literal[
    "not_a_payload", "malformed", "unknown_algorithm", "unknown_key", "wrong_key_type", "bad_signature"
]


class QrPayloadRefused(Exception):
    """A QR payload that must not be believed. ``kind`` is stable (for problem details and
    metrics), ``reason`` says what was wrong."""

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: RefusalKind = kind
        self.reason = reason


@dataclass(frozen=True)
class QrClaims:
    number: str
    name: str
    school_name: str
    issued_on: date
    outcome: GraduationOutcome
    kind: CertificateKind
    province: str  # GB/T 2260 code of the issuing province, e.g. "41"


def claims_to_cbor(claims: QrClaims) -> bytes:
    # The date as days since 1970: 3 bytes, where an RFC 8943 date string takes 13.
    return cbor2.dumps(
        {
            NUMBER: claims.number,
            NAME: claims.name,
            SCHOOL_NAME: claims.school_name,
            ISSUED_ON: (claims.issued_on - _EPOCH).days,
            OUTCOME: OUTCOME_CODES[claims.outcome],
            KIND: KIND_CODES[claims.kind],
            PROVINCE: claims.province,
        },
        canonical=True,
    )


def _text(claims: dict[Any, Any], key: int, label: str) -> str:
    value = claims.get(key)
    if not isinstance(value, str) or not value:
        raise QrPayloadRefused("malformed", f"claim {label} is missing or not text")
    return value


def _code(claims: dict[Any, Any], key: int, label: str, codes: dict[Any, int]) -> Any:
    value = claims.get(key)
    for name, code in codes.items():
        if value == code and not isinstance(value, bool):
            return name
    raise QrPayloadRefused("malformed", f"claim {label} has no known value ({value!r})")


def claims_from_cbor(data: bytes) -> QrClaims:
    """The claims in ``data`` (already verified bytes); ``QrPayloadRefused`` if they are not
    claims. Keys this version does not know are ignored (a newer issuer may add some)."""
    try:
        claims = cbor2.loads(data, allow_indefinite=False, allow_duplicate_keys=False)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise QrPayloadRefused("malformed", f"claims are not valid CBOR: {exc}") from exc
    if not isinstance(claims, dict):
        raise QrPayloadRefused("malformed", "claims are not a map")
    days = claims.get(ISSUED_ON)
    if not isinstance(days, int) or isinstance(days, bool):
        raise QrPayloadRefused("malformed", "claim issued_on is missing or not a day number")
    try:
        issued_on = date.fromordinal(_EPOCH.toordinal() + days)
    except (ValueError, OverflowError) as exc:
        raise QrPayloadRefused("malformed", f"claim issued_on is out of range ({days})") from exc
    return QrClaims(
        number=_text(claims, NUMBER, "number"),
        name=_text(claims, NAME, "name"),
        school_name=_text(claims, SCHOOL_NAME, "school_name"),
        issued_on=issued_on,
        outcome=_code(claims, OUTCOME, "outcome", dict(OUTCOME_CODES)),
        kind=_code(claims, KIND, "kind", dict(KIND_CODES)),
        province=_text(claims, PROVINCE, "province"),
    )


def payload_url(base_url: str, signed: bytes) -> str:
    """``HTTPS://…/<BASE32>``: the whole text of the QR. The verification route must therefore
    answer the upper-case path (hosts are case-blind, paths are not)."""
    base = base_url.upper()
    if not base.startswith("HTTPS://"):
        raise ValueError(f"the verification URL must be https: {base_url!r}")
    if not base.endswith("/"):
        base += "/"
    outside = sorted(set(base) - QR_ALPHANUMERIC)
    if outside:
        raise ValueError(f"the verification URL holds {outside}, which leave QR alphanumeric mode")
    return base + base64.b32encode(signed).decode().rstrip("=")


def payload_from_text(text: str) -> bytes:
    """The signed bytes from what a scanner or a person gives: the whole URL (any case) or the
    bare base32. ``QrPayloadRefused("not_a_payload")`` for anything else."""
    encoded = text.strip()
    if len(encoded) > MAX_PAYLOAD_CHARS + 200:
        raise QrPayloadRefused("not_a_payload", "longer than any certificate payload")
    encoded = encoded.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    encoded = encoded.rsplit("/", 1)[-1].upper()
    if not encoded:
        raise QrPayloadRefused("not_a_payload", "no payload")
    if len(encoded) > MAX_PAYLOAD_CHARS:
        raise QrPayloadRefused("not_a_payload", "longer than any certificate payload")
    if not set(encoded) <= _BASE32:
        raise QrPayloadRefused("not_a_payload", "the payload is not base32 (A–Z, 2–7)")
    try:
        return base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error as exc:
        raise QrPayloadRefused("not_a_payload", f"the payload is not whole base32: {exc}") from exc
