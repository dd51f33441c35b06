"""Whom a transfer may take (DOMAIN.md "Transfers"; seed 004 art. 12; seed 002 §18–19).

The origin's enrollment vouches for the student (ours, name matches) and reports the facts;
the destination's for its school and class. These rules judge the facts for the kind. Reasons
are Chinese sentences shown to both provinces' registrars as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from services.transfer.domain.kind_rules import KindRules
from shared.events.common import STUDENT_STATUS_LABELS
from shared.events.transfer import TransferKind

# School types a student may come from into secondary-vocational school with a 3-year length and
# at least 1.5 years left (art. 12: 由普通高中和技工学校转入的学生，学制为3年，且剩余学习时间不得少于1.5年).
FROM_OTHER_SCHOOL_TYPES = frozenset({"general_high", "technical"})
MIN_MONTHS_LEFT = 18
LENGTH_FROM_OTHER_SCHOOL_TYPES = 3.0
SCHOOL_YEAR_STARTS_MONTH = 9


@dataclass(frozen=True)
class StudentFacts:
    """What the origin reported of the student."""

    status: str
    entry_year: int
    study_length: float
    major_code: str | None
    school_type: str | None


@dataclass(frozen=True)
class TargetFacts:
    """What the destination reported of the school and class (class None: assigned later)."""

    school_type: str | None
    class_major_code: str | None


def study_year(entry_year: int, today: date) -> int:
    """1 in the school year the student entered, 2 in the next, …; school years start in September."""
    return today.year - entry_year + (1 if today.month >= SCHOOL_YEAR_STARTS_MONTH else 0)


def in_graduating_year(facts: StudentFacts, today: date) -> bool:
    return study_year(facts.entry_year, today) >= math.ceil(facts.study_length)


def months_left(entry_year: int, study_length: float, today: date) -> int:
    """Whole months from ``today`` to the end of a course that began in September of
    ``entry_year`` and lasts ``study_length`` years (its last summer included)."""
    end = entry_year * 12 + (SCHOOL_YEAR_STARTS_MONTH - 1) + round(study_length * 12)
    return end - (today.year * 12 + today.month - 1)


def eligibility_reasons(
    rules: KindRules, student: StudentFacts, target: TargetFacts, today: date
) -> tuple[str, ...]:
    """Why the kind cannot take this student to this target; empty when it can."""
    reasons: list[str] = []
    if student.status not in rules.allowed_statuses:
        reasons.append(
            f"学籍状态为“{STUDENT_STATUS_LABELS.get(student.status, student.status)}”，不能办理{rules.label}"
        )
    changes_major = (
        target.class_major_code is not None
        and student.major_code is not None
        and target.class_major_code != student.major_code
    )
    if (
        rules.kind is not TransferKind.AFTER_GRADUATION
        and changes_major
        and in_graduating_year(student, today)
    ):
        reasons.append("毕业年级学生不允许转专业")
    from_other_school_type = (
        student.school_type in FROM_OTHER_SCHOOL_TYPES and target.school_type == "secondary_vocational"
    )
    if (
        from_other_school_type
        and months_left(student.entry_year, LENGTH_FROM_OTHER_SCHOOL_TYPES, today) < MIN_MONTHS_LEFT
    ):
        reasons.append("由普通高中或技工学校转入的学生，剩余学习时间不得少于1.5年")
    return tuple(reasons)
