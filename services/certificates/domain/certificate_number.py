"""Certificate numbers (证书编号): what a number is made of, its check digits, and the keyed
permutation that turns a school's running counter into a random-looking serial.

DOMAIN.md "Graduation and certificates": the number is built from graduation year, region code,
school code and a random serial, and is unique; the province, not the national system, hands it
out. Layout (28 digits, issue 8)::

    YYYY RRRRRR SSSSSSSSSS K NNNNN CC
    year region school     series serial check

* ``RRRRRR`` the school's county (GB/T 2260), ``SSSSSSSSSS`` the 10-digit school code.
* ``K`` the series: 1 毕业证书, 2 学历证明书 (seed 004 art. 19: a lost certificate is replaced by a
  certificate of education with its own numbers).
* ``NNNNN`` the serial, 00000–99999: ``permute_serial`` of the school's counter for the series
  and year, so serials look random yet never collide and never need a retry (STACK.md
  "Numbers": random serials behind a unique index needed 219 retries in 20,000 under 4 workers).
* ``CC`` ISO 7064 MOD 97-10 over the 26 digits before them. Chosen over MOD 11-2 and Luhn because
  it catches every single typo and every adjacent transposition (97 is a prime larger than any
  digit difference times 9), and 99 % of double typos as measured (MOD 11-2: 90 %).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from stdnum.iso7064 import mod_97_10

NUMBER_DIGITS = 28
SERIAL_RANGE = 100_000  # five digits; the most numbers one school gets per series and year
MIN_KEY_BYTES = 32

# (name, width) of each part in order; the display groups the number the same way.
_PARTS = (("year", 4), ("region", 6), ("school", 10), ("series", 1), ("serial", 5), ("check", 2))

# People type numbers from paper: spaces or hyphens between groups, full-width digits from a
# Chinese input method (NFKC turns those and the ideographic space into ASCII), dashes of all kinds.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]+")
_DIGITS = re.compile(r"[0-9]*")


class Series(IntEnum):
    """Each series has its own counter, and its digit is part of the number."""

    graduation = 1  # 毕业证书
    education_certificate = 2  # 学历证明书, replacing a lost certificate (seed 004 art. 19)


class Refusal(StrEnum):
    not_digits = "not_digits"
    wrong_length = "wrong_length"
    mistyped = "mistyped"  # the check digits do not match: a typo, almost surely
    unknown_series = "unknown_series"


class InvalidCertificateNumber(ValueError):
    """A text that is not a certificate number; ``reason`` says why, for the problem details."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CertificateNumber:
    year: int
    region: str
    school: str
    series: Series
    serial: int

    @property
    def text(self) -> str:
        return compose(self.year, self.region, self.school, self.series, self.serial)

    def __str__(self) -> str:
        return self.text


def check_digits(body: str) -> str:
    """The two MOD 97-10 check digits of the 26-digit body (98 − body·100 mod 97)."""
    if not _DIGITS.fullmatch(body) or not body:
        # stdnum also reads letters (base 36); a certificate number is digits only.
        raise ValueError("a certificate number body is ASCII digits")
    digits: str = mod_97_10.calc_check_digits(body)
    return digits


def compose(year: int, region: str, school: str, series: Series, serial: int) -> str:
    """The 28-digit number of these parts, check digits included."""
    if not 0 <= year <= 9999:
        raise ValueError("the year has four digits")
    if not (len(region) == 6 and _DIGITS.fullmatch(region)):
        raise ValueError("the region code has six digits")
    if not (len(school) == 10 and _DIGITS.fullmatch(school)):
        raise ValueError("the school code has ten digits")
    if not 0 <= serial < SERIAL_RANGE:
        raise ValueError(f"the serial is in [0, {SERIAL_RANGE})")
    body = f"{year:04d}{region}{school}{Series(series).value}{serial:05d}"
    return body + check_digits(body)


def parse(text: str) -> CertificateNumber:
    """The number a person typed or scanned, with or without the display's grouping."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    # The refusals never repeat the text: it may be anything a stranger typed.
    if not _DIGITS.fullmatch(compact):
        raise InvalidCertificateNumber(Refusal.not_digits, "a certificate number has only digits")
    if len(compact) != NUMBER_DIGITS:
        raise InvalidCertificateNumber(
            Refusal.wrong_length, f"a certificate number has {NUMBER_DIGITS} digits, not {len(compact)}"
        )
    if not mod_97_10.is_valid(compact):
        raise InvalidCertificateNumber(Refusal.mistyped, "the check digits do not match: a digit is mistyped")
    parts = _split(compact)
    try:
        series = Series(int(parts["series"]))
    except ValueError:
        raise InvalidCertificateNumber(
            Refusal.unknown_series, "no certificate series has this digit"
        ) from None
    return CertificateNumber(
        year=int(parts["year"]),
        region=parts["region"],
        school=parts["school"],
        series=series,
        serial=int(parts["serial"]),
    )


def format_grouped(number: str | CertificateNumber) -> str:
    """The number as printed and displayed: ``2026 410102 4141010001 1 04821 37``."""
    text = number.text if isinstance(number, CertificateNumber) else parse(number).text
    return " ".join(_split(text).values())


def _split(compact: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    at = 0
    for name, width in _PARTS:
        parts[name] = compact[at : at + width]
        at += width
    return parts


# --- the keyed permutation of serials ---------------------------------------------------------

# A Feistel network over Z_317 × Z_317 (100,489 values), walked back into [0, 100,000). Halves of
# 317 rather than bits (2 × 9 bits = 262,144) keep cycle walking to about 0.5 % extra passes instead
# of 160 %. Ten rounds, as FF1 uses for small domains. The round function is HMAC-SHA256 of (domain,
# round, half); a half has only 317 values, so each round's function is tabulated once per key and
# domain, and a permutation then costs table look-ups only. Not format-preserving encryption to
# NIST's standard: the serial only has to look random, so a printed number does not tell how many
# certificates a school issued nor lead to its neighbours.
_HALF = 317
_ROUNDS = 10
assert _HALF * _HALF >= SERIAL_RANGE


@functools.lru_cache(maxsize=1024)
def _round_tables(key: bytes, domain: str) -> tuple[tuple[int, ...], ...]:
    label = domain.encode()
    prefix = b"xueji/certificate-serial/" + len(label).to_bytes(2, "big") + label
    return tuple(
        tuple(_round_function(key, prefix + bytes([r]) + half.to_bytes(2, "big")) for half in range(_HALF))
        for r in range(_ROUNDS)
    )


def _round_function(key: bytes, message: bytes) -> int:
    # 64 bits reduced mod 317: the bias is below 2⁻⁵⁵.
    return int.from_bytes(hmac.digest(key, message, hashlib.sha256)[:8], "big") % _HALF


def permute_serial(counter: int, key: bytes, domain: str) -> int:
    """The serial of the ``counter``-th number of ``domain`` (one school, series and year): a
    bijection of [0, 100,000) chosen by the key, so distinct counters give distinct serials.

    The key must stay the same for as long as a domain hands out numbers: under another key a
    later counter may land on a serial an earlier one already got."""
    if not 0 <= counter < SERIAL_RANGE:
        raise ValueError(f"the counter is in [0, {SERIAL_RANGE})")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the serial key has at least {MIN_KEY_BYTES} bytes")
    tables = _round_tables(key, domain)
    value = counter
    # Cycle walking: the network permutes [0, 317²); applying it again until the value falls in
    # range stays a bijection of the range, because each value's cycle leads back into it.
    while True:
        left, right = divmod(value, _HALF)
        for table in tables:
            left, right = right, (left + table[right]) % _HALF
        value = left * _HALF + right
        if value < SERIAL_RANGE:
            return value
