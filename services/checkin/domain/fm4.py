"""FM4 学籍空挂 (hollow records), the check-in part (DOMAIN.md "Oversight: negative list"; seed 004
负面清单 FM4 "学生未履行请假手续，多次检查或连续超过3个月未在校学习，学籍状态未做休学、退学处理或变更为
非全日制学籍"; seed 001 三.5 "学生未履行请假手续超过 3 个月的…按退学处理").

A full-time in-school student is counted when, over the last three months, they were called to
at least one round (they have a miss not excused by an appeal) and have no valid check-in
(正常 or 正在实习) at all. A student nobody called — no round in the window — is not counted:
silence is only evidence when a round asked for presence. Approved leave already exempts a
student from a round, so leave never produces a miss here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from services.checkin.domain.check_in_result import CheckInResult
from services.checkin.domain.eligibility import FULL_TIME, IN_SCHOOL

WINDOW_MONTHS = 3
# A check-in with a final result (正常, 正在实习) shows the student was where they should be.
VALID_RESULTS: tuple[str, ...] = tuple(result.value for result in CheckInResult if result.final)


def window_start(today: date, months: int = WINDOW_MONTHS) -> date:
    """The same day ``months`` calendar months back (the month's last day when it is shorter:
    31 May → 28/29 February)."""
    month_index = today.year * 12 + today.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PresenceRecord:
    """What FM4 needs of one student (all dates in Asia/Shanghai)."""

    status: str
    study_form: str
    last_valid_check_in_on: date | None
    last_unexcused_miss_on: date | None  # the day the last missed round closed


def is_hollow_record(student: PresenceRecord, today: date) -> bool:
    """FM4: full-time, in school, called to a round in the window, no valid check-in in it."""
    if student.status != IN_SCHOOL or student.study_form != FULL_TIME:
        return False
    since = window_start(today)
    called = student.last_unexcused_miss_on is not None and student.last_unexcused_miss_on >= since
    present = student.last_valid_check_in_on is not None and student.last_valid_check_in_on >= since
    return called and not present
