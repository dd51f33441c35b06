"""At most 15 days of leave per term (DOMAIN.md "Registration rounds and routine verification";
seed 001 三.5 "学生每学期累计请假时间不得超过 15 天，超出者按休学处理").

Days are calendar days of granted leave, each counted in the term it falls in (a leave across
the January/February boundary spends days of two terms), each day once even if two leaves
should cover it (the API refuses overlaps, but a count must not depend on that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from services.checkin.domain.leave_request import LeaveSpan

LEAVE_LIMIT_DAYS = 15
MAX_LEAVE_DAYS = 180  # one request; longer absences are a suspension (休学), not leave


def leave_days_per_term(spans: Iterable[LeaveSpan], term_of: Callable[[date], str]) -> dict[str, int]:
    """Granted leave days per term name."""
    days: set[date] = set()
    for span in spans:
        day = span.first
        while day <= span.last:
            days.add(day)
            day += timedelta(days=1)
    return dict(Counter(term_of(day) for day in days))


def terms_of(span: LeaveSpan, term_of: Callable[[date], str]) -> set[str]:
    """The terms a leave touches (one or two: a request is at most 180 days)."""
    return set(leave_days_per_term([span], term_of))


def exceeds_leave_limit(days_in_term: int) -> bool:
    """More than 15 days in one term: the student is proposed for suspension (休学)."""
    return days_in_term > LEAVE_LIMIT_DAYS
