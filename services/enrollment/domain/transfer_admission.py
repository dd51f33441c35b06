"""What a transfer makes of the record at the destination (DOMAIN.md "Transfers"; seed 004
art. 12; seed 002 §19).

- Inside the province (省内转学, 联合办学 art. 15) the record moves: same id and number, new school.
- Across provinces the record is released and admitted with its study length (a transfer keeps
  the original study length), except that a student from a general high school or a technical
  school entering a secondary-vocational school studies 3 years (art. 12: 由普通高中和技工学校转入
  的学生，学制为3年).
- 毕业后跨省就学 starts a new course: in school, a new entry year and study length.
"""

from __future__ import annotations

from datetime import date

from shared.events.transfer import TransferKind

WITHIN_PROVINCE = frozenset({TransferKind.IN_PROVINCE, TransferKind.JOINT_PROGRAMME})
FROM_OTHER_SCHOOL_TYPES = frozenset({"general_high", "technical"})
SECONDARY_VOCATIONAL = "secondary_vocational"
LENGTH_FROM_OTHER_SCHOOL_TYPES = 3.0
# The basic study length (art. 10); enrollment keeps no length per class or major to prefer.
NEW_COURSE_LENGTH = 3.0
SCHOOL_YEAR_STARTS_MONTH = 9


def moves_within_province(kind: str) -> bool:
    """An unknown kind is treated as a release: the partner's rules decide, never a silent move."""
    return kind in WITHIN_PROVINCE


def starts_new_course(kind: str) -> bool:
    return kind == TransferKind.AFTER_GRADUATION


def admitted_study_length(
    *, kind: str, carried: float, origin_school_type: str | None, destination_school_type: str
) -> float:
    if starts_new_course(kind):
        return NEW_COURSE_LENGTH
    if origin_school_type in FROM_OTHER_SCHOOL_TYPES and destination_school_type == SECONDARY_VOCATIONAL:
        return LENGTH_FROM_OTHER_SCHOOL_TYPES
    return carried


def entry_year_of_school_year(today: date) -> int:
    """The entry year of a student starting now: school years start in September."""
    return today.year if today.month >= SCHOOL_YEAR_STARTS_MONTH else today.year - 1
