"""Resident ID numbers (居民身份证号码) as specified by GB 11643-1999.

Layout of the 18-character number::

    RRRRRR YYYYMMDD SSS C
    region birth    seq check

* ``RRRRRR`` – the GB/T 2260 administrative-division code of the place where the number was first
  issued.  Codes are never rewritten when divisions are renamed, merged or abolished, so an old
  number may carry a code that no longer exists today.
* ``YYYYMMDD`` – date of birth.
* ``SSS`` – sequence; odd for men, even for women.
* ``C`` – ISO 7064 MOD 11-2 check character, ``X`` standing for 10.

First-generation cards (before 1999) have 15 digits: region, ``YYMMDD`` (always 19xx) and sequence, no
check character.  They are upgraded by inserting ``19`` before the year and appending the check
character.

Region table: we use the GB/T 2260 table that ships with ``python-stdnum`` (``stdnum/cn/loc.dat``,
read through ``stdnum.numdb``) instead of keeping our own copy.  It is maintained upstream (new
divisions appear with package updates, we only bump the pin), and it records *historical* codes
with the years they were in use (``[-2010]崇文区``), which is exactly what validating old numbers
needs.  We deliberately do **not** call ``stdnum.cn.ric.validate``: it also requires the code to
have been in use in the holder's *birth year*, which wrongly rejects e.g. someone born in 1990 whose
first card was issued in 2006 under a code created in 1997 (411402 梁园区).  We accept any code that
has existed at any time.

Check digit: computed here rather than with ``stdnum.cn.ric.calc_check_digit``.  It is a few lines
with the weights written out as in the standard, and stdnum's helper expects the number *including*
a check character, an awkward signature for building numbers.

Error messages never contain the ID number itself (they end up in logs and API responses).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import numdb

from shared.china_time import today_in_china

__all__ = [
    "IdErrorCode",
    "InvalidIdNumber",
    "ResidentId",
    "Sex",
    "make_resident_id",
    "mask_id_number",
    "parse_resident_id",
    "resident_id_check_digit",
]

Sex = Literal["M", "F"]
IdErrorCode = Literal["format", "check_digit", "birth_date", "region"]

_EARLIEST_BIRTH = date(1900, 1, 1)

# Weights 2^(17-i) mod 11 for positions i = 0..16 (GB 11643-1999, 7.2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for (sum of weighted digits) mod 11 = 0..10.
_CHECK_CHARS = "10X98765432"

_RE_18 = re.compile(r"[0-9]{17}[0-9X]")
_RE_15 = re.compile(r"[0-9]{15}")
_RE_17 = re.compile(r"[0-9]{17}")
_RE_REGION = re.compile(r"[0-9]{6}")


class InvalidIdNumber(Exception):
    """An ID number failed validation; ``code`` says which rule (stable, for API clients)."""

    def __init__(self, code: IdErrorCode, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en)
        self.code: IdErrorCode = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str  # normalised, 18 characters, upper-case X
    region_code: str
    birth_date: date
    sex: Sex
    legacy_15: bool  # given in the 15-digit first-generation form and upgraded


def resident_id_check_digit(first17: str) -> str:
    """The MOD 11-2 check character ("0"-"9" or "X") for the first 17 digits of a number."""
    if not _RE_17.fullmatch(first17):
        raise ValueError("expected exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def make_resident_id(region_code: str, birth: date, sequence: int) -> str:
    """Build a valid 18-character number (for tests and demo data); sequence is 0..999, odd = male."""
    if not _RE_REGION.fullmatch(region_code):
        raise ValueError("region_code must be 6 digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be in 0..999")
    if not 1000 <= birth.year <= 9999:
        raise ValueError("birth year must have 4 digits")
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_digit(first17)


def mask_id_number(number: str) -> str:
    """Keep the first 4 and last 4 characters, star the rest; strings shorter than 8 are fully starred."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


@functools.cache
def _region_db() -> numdb.NumDB:
    return numdb.get("cn/loc")


@functools.lru_cache(maxsize=8192)  # ~0.6 ms per numdb lookup; a province has a few thousand codes
def _region_known(region_code: str) -> bool:
    """True when the code appears in the GB/T 2260 table, current or historical."""
    parts = _region_db().info(region_code)
    # A known code splits into a 2-digit province entry and a 4-digit entry carrying a county name.
    return (
        len(parts) == 2
        and len(parts[0][0]) == 2
        and "province" in parts[0][1]
        and len(parts[1][0]) == 4
        and bool(parts[1][1].get("county"))
    )


def _normalise(raw: str) -> str:
    # NFKC turns full-width digits and "Ｘ" (common in pasted or spreadsheet data) into ASCII.
    return unicodedata.normalize("NFKC", raw).strip().upper()


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate a resident ID number (18 characters, or 15 digits of the first generation).

    Checks in order: format, check digit, birth date (real date, not before 1900, not after
    ``today`` in China), region code.  Raises :class:`InvalidIdNumber` on the first failure.
    """
    text = _normalise(raw)
    legacy = False
    if _RE_18.fullmatch(text):
        number = text
        if resident_id_check_digit(number[:17]) != number[17]:
            raise InvalidIdNumber(
                "check_digit",
                "身份证号码校验位不正确，请核对号码",
                "The ID number's check digit does not match; please check the number",
            )
    elif _RE_15.fullmatch(text):
        legacy = True
        first17 = f"{text[:6]}19{text[6:]}"
        number = first17 + resident_id_check_digit(first17)
    else:
        raise InvalidIdNumber(
            "format",
            "身份证号码格式不正确：应为18位（末位可为X）或15位数字",
            "The ID number must be 18 characters (17 digits and a digit or X) or 15 digits",
        )

    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "birth_date",
            "身份证号码中的出生日期不存在",
            "The birth date in the ID number is not a real date",
        ) from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdNumber(
            "birth_date",
            "身份证号码中的出生日期早于1900年",
            "The birth date in the ID number is before 1900",
        )
    if birth > (today if today is not None else today_in_china()):
        raise InvalidIdNumber(
            "birth_date",
            "身份证号码中的出生日期晚于今天",
            "The birth date in the ID number is in the future",
        )

    region_code = number[:6]
    if not _region_known(region_code):
        raise InvalidIdNumber(
            "region",
            "身份证号码中的地区代码不存在",
            "The region code in the ID number is not a known GB/T 2260 code",
        )

    sex: Sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, region_code=region_code, birth_date=birth, sex=sex, legacy_15=legacy)


def mask_student_number(number: str) -> str:
    """A formal student number is "G" + the ID number, so it is shown masked like the ID itself
    (G4114**********1234); temporary "L" numbers embed no personal data and are shown whole."""
    if number.startswith("G"):
        return "G" + mask_id_number(number[1:])
    return number
