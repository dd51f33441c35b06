"""Negative-list indicators a school's data can show, and the rating they force (DOMAIN.md
"Oversight"; seed 004 第六章 第二十一—二十三条 and 负面清单（2021版） FM2, FM3, FM5, FM8).

Only the items the records themselves can show are here: FM1 (false data), FM4 (hollow records,
fed by check-ins), FM6 (unfiled campuses) and FM7 need facts this service does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.enrollment.domain.student_state import StudentState

FM5_TOLERANCE = 0.02  # "超过学籍总人数的2%"
FM8_MIN_NEW_STUDENTS = 60  # "连续两年招生人数不能达到60人"
FM8_MIN_IN_SCHOOL = 240  # "在校生连续两年不能达到240人"

# Who counts as "in school" (在校生): on the roll, whether present, on leave or suspended.
ON_ROLL_STATES: tuple[StudentState, ...] = (
    StudentState.IN_SCHOOL,
    StudentState.ON_LEAVE,
    StudentState.SUSPENDED,
    StudentState.SUSPECTED_DROPOUT,
)

# The yearly in-school count FM8 compares is taken once a year when the autumn intake is final:
# at its filing deadline, 20 December (seed 004 art. 7: 秋季招生 12月20日前完成备案).
SNAPSHOT_MONTH_DAY = (12, 20)


def fm2_unfiled_enrolment(students_without_qualification: int) -> bool:
    """FM2 未在省教育厅备案开展招生: a student registered in a major the school has no filed
    qualification for (school + major + intake year) breaks it."""
    return students_without_qualification > 0


def fm3_duplicate_records(open_duplicate_cases: int) -> bool:
    """FM3 学籍重复: an unresolved duplicate-ID problem record of the school's."""
    return open_duplicate_cases > 0


def fm5_national_mismatch(provincial_count: int, national_count: int | None) -> bool | None:
    """FM5 全国学生系统信息与学籍信息模块信息不相符: the counts differ by more than 2% of the
    school's students. None when no national count was uploaded (not assessable)."""
    if national_count is None:
        return None
    # Integer arithmetic: 2 % of 100 is exactly 2, and a difference of 2 is not "more than".
    return abs(provincial_count - national_count) * 100 > provincial_count * round(FM5_TOLERANCE * 100)


def snapshot_year_due(today: date) -> int:
    """The latest year whose in-school snapshot should exist by ``today``: this year's from
    20 December on, last year's before."""
    month, day = SNAPSHOT_MONTH_DAY
    return today.year if (today.month, today.day) >= (month, day) else today.year - 1


def fm8_no_effective_enrolment(
    new_students_last_two_years: tuple[int, int], in_school_last_two_years: Sequence[int]
) -> bool:
    """FM8 连续无有效招生: fewer than 60 new students in each of the last two intakes, or fewer
    than 240 in school two years running — judged on the last two yearly snapshots of the roll
    (``in_school_snapshots``). With fewer than two snapshots the in-school half cannot be judged
    yet, and only the intakes decide."""
    few_new = all(n < FM8_MIN_NEW_STUDENTS for n in new_students_last_two_years)
    small = len(in_school_last_two_years) >= 2 and all(
        n < FM8_MIN_IN_SCHOOL for n in in_school_last_two_years[:2]
    )
    return few_new or small


Rating = Literal["D"]


@dataclass(frozen=True)
class Indicators:
    fm2: bool
    fm3: bool
    fm5: bool | None
    fm8: bool

    @property
    def broken(self) -> list[str]:
        return [name for name in ("fm2", "fm3", "fm5", "fm8") if getattr(self, name) is True]


def forced_rating(indicators: Indicators) -> Rating | None:
    """第二十三条: a school that breaks the negative list is rated D (一票否决). A, B and C come
    from the yearly evaluation (第二十二条), which these indicators alone do not decide."""
    return "D" if indicators.broken else None
