"""China's time zone, for the dates rules speak of (deadlines, school years, rounds).

China has kept UTC+8 without daylight saving since 1991; the named zone says so to readers.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    return datetime.now(CHINA).date()
