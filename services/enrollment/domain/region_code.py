"""GB/T 2260 division codes (DOMAIN.md "Organisation tree"): six digits, ``41 00 00`` a province,
``41 01 00`` a city, ``41 01 02`` a county. The org tree keeps them at their own length (41,
4101, 410102: a prefix is the parent), so the six-digit form is folded on the way in."""

from __future__ import annotations

from typing import Literal

RegionLevel = Literal["province", "city", "county"]


class InvalidRegionCode(ValueError):
    """Not a GB/T 2260 code of the expected level, or not under the given parent."""


def tree_code(code: str) -> str:
    """The code at its own length: 410000 → 41, 410100 → 4101, 410102 → 410102."""
    if not (code.isascii() and code.isdigit() and len(code) in (2, 4, 6)):
        raise InvalidRegionCode("a region code has 2, 4 or 6 digits (GB/T 2260)")
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    elif len(code) == 6 and code.endswith("00"):
        code = code[:4]
    elif len(code) == 4 and code.endswith("00"):
        raise InvalidRegionCode("a city code does not end in 00")
    if code[:2] == "00" or (len(code) > 2 and code[2:4] == "00"):
        raise InvalidRegionCode("no GB/T 2260 division has 00 at that place")
    return code


def level_of(code: str) -> RegionLevel:
    return {2: "province", 4: "city", 6: "county"}[len(code)]  # type: ignore[return-value]


def parent_of(code: str) -> str | None:
    return code[:-2] if len(code) > 2 else None
