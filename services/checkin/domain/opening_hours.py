"""The system is open for check-ins 07:00–23:00 China time (seed 000, 注意事项 1: "系统每天开放时间
7:00-23:00"). A province may configure other hours; the defaults are the seed's."""

from __future__ import annotations

from datetime import datetime, time

from shared.china_time import CHINA

DEFAULT_OPENS = time(7)
DEFAULT_CLOSES = time(23)


def within_opening_hours(at: datetime, opens: time = DEFAULT_OPENS, closes: time = DEFAULT_CLOSES) -> bool:
    """True when ``at`` (an aware datetime, any zone) falls inside [opens, closes) in Asia/Shanghai.

    The end is exclusive: at 23:00:00 the system has closed. A naive datetime is refused rather
    than guessed at — a server clock in UTC read as China time would shift the window 8 hours.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("within_opening_hours needs an aware datetime")
    local = at.astimezone(CHINA).time()
    if opens <= closes:
        return opens <= local < closes
    # A window that runs over midnight (e.g. 20:00–02:00), should a province configure one.
    return local >= opens or local < closes
