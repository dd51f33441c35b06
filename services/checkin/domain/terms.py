"""Which term (学期) a day belongs to. Misses are counted per term (seed 001 四.1: "每个学期内连续
出现 2 次、累计 4 次"), leave is capped per term, so every round and leave carries its term.

Convention (seed 000: a registration round has 学籍注册年度 + 学籍注册季节, e.g. 2023 / 春季 for
"2023年春季电子学籍注册"; seed 003: spring work is due by 3/31 and 6/30, autumn by 9/30 and 12/31):
the spring term runs February–July and is named after its calendar year; the autumn term runs
August–January and is named after the year it starts in, so January 2027 is in "2026-autumn".
"""

from __future__ import annotations

from datetime import date
from typing import Literal

Season = Literal["spring", "autumn"]


def term_name(year: int, season: Season) -> str:
    """The term's name, e.g. ``term_name(2026, "autumn") == "2026-autumn"``."""
    return f"{year}-{season}"


def term_of(day: date) -> str:
    """The term ``day`` falls in, e.g. ``2026-autumn`` for 2026-09-01 and for 2027-01-15."""
    if day.month == 1:
        return term_name(day.year - 1, "autumn")
    if day.month <= 7:
        return term_name(day.year, "spring")
    return term_name(day.year, "autumn")


def term_bounds(year: int, season: Season) -> tuple[date, date]:
    """First and last day of a term (inclusive)."""
    if season == "spring":
        return date(year, 2, 1), date(year, 7, 31)
    return date(year, 8, 1), date(year + 1, 1, 31)
