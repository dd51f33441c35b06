"""Who is on a school's pre-graduate list (预毕业生查询) for a graduating year, and whether each
student is ready to graduate or what blocks them (DOMAIN.md "Graduation and certificates";
seed 004 art. 7, 10, 17).

The normal end of study. A course starting in the autumn of ``grade`` and lasting ``study_length``
years ends in June of ``grade + ceil(study_length)``: a half year left over is rounded up to the
next June, because certificates are issued only once a year, from 11 June (art. 17), and
enrollment counts the graduating school year the same way (``graduating_school_year``). A 2.5-year
course from autumn 2023 ends June 2026, a 3.5-year one June 2027. A spring intake (rare: art. 6
has spring deadlines) starts half a year later in the same calendar year, so half a year less is
left to round: ``grade + ceil(study_length - 0.5)`` (2.5 years from spring 2024 → June 2026).

Who is listed for year Y. ``due`` is the earlier of the end by the current grade (a repeat moves
the grade on, a skipped grade back) and the end by the filed intake year (the class the student
came with):
- due in Y: listed whatever the status, so the registrar sees why a classmate is not ready;
- due before Y: listed only while the record is still open (in school, on leave, suspended…),
  a repeater's or a suspended student's later graduation (art. 17: 留级或休学的学生…顺延办理);
- more than 3 years after the end by the filed intake year (art. 17: 留级学生延期不得超过3年)
  the student is a *late graduation* (past students never graduated in the system): still
  listed, flagged ``late``; a list holding one needs the province's approval too
  (graduation_review.chain_for_list).
A student due after Y is not listed: their class does not graduate this year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from shared.events.certificates import GraduationOutcome

Season = Literal["autumn", "spring"]

IN_SCHOOL = "in_school"
SUSPENDED = "suspended"
# Records still open: a student in one of these may yet graduate. Every other status closes the
# record (withdrawn, transferred out, graduated, completed, left, deregistered, dead, dropout).
OPEN_STATUSES = frozenset({IN_SCHOOL, "on_leave", SUSPENDED, "suspected_dropout", "abroad"})
# art. 17: a repeater's graduation may be postponed by at most 3 years.
MAX_DELAY_YEARS = 3
# School years start in September (DOMAIN.md).
SCHOOL_YEAR_STARTS_MONTH = 9
# art. 10: the longest course (part-time) is 6 years; nobody is due later than grade + 6.
MAX_STUDY_YEARS = 6


class Block(StrEnum):
    """A reason a student cannot graduate (毕业) now; each reads as the registrar sees it."""

    NOT_FILED = "not_filed"
    NO_QUALIFICATION = "no_qualification"
    OPEN_PROBLEM_RECORD = "open_problem_record"
    SUSPENDED = "suspended"
    STUDY_NOT_COMPLETED = "study_not_completed"
    NOT_IN_SCHOOL = "not_in_school"
    NAME_UNPRINTABLE = "name_unprintable"

    @property
    def reason(self) -> str:
        return _REASONS[self][0]

    @property
    def reason_zh(self) -> str:
        return _REASONS[self][1]


_REASONS: dict[Block, tuple[str, str]] = {
    Block.NOT_FILED: ("the record was not filed with the province", "学籍未在省级备案"),
    Block.NO_QUALIFICATION: (
        "the school or major has no filed enrolment qualification for the intake year",
        "学校或专业未在省教育厅进行招生资质备案",
    ),
    Block.OPEN_PROBLEM_RECORD: ("the student has an open problem record", "存在未处理完的问题学籍"),
    Block.SUSPENDED: ("the student is suspended", "学生处于休学状态"),
    Block.STUDY_NOT_COMPLETED: ("the study length is not completed", "未修满学制"),
    Block.NOT_IN_SCHOOL: ("the student is not in school", "学籍状态不是在校"),
    Block.NAME_UNPRINTABLE: (
        "the name has a character the certificate fonts cannot print: correct it at enrollment",
        "姓名含证书字体无法印制的字符，请先在学籍中更正",
    ),
}

# What each outcome tolerates. 毕业 needs a clear record. 结业 (studied the full length but did not
# pass every assessment) differs from 毕业 by the school's assessment, not by the record, so the
# record must be just as clear. 肄业 (left without completing, after at least a year: the
# ministry's 学籍管理办法) is for a student who stops early, so an unfinished study length or a
# suspension does not stand in its way; a record that is not filed, without a qualification, in
# dispute (open problem record) or closed still does (art. 7: such students get no certificate).
TOLERATED: dict[str, frozenset[Block]] = {
    "graduated": frozenset(),
    "completed": frozenset(),
    "left_without_completing": frozenset({Block.STUDY_NOT_COMPLETED, Block.SUSPENDED}),
}
OUTCOME_ZH: dict[str, str] = {"graduated": "毕业", "completed": "结业", "left_without_completing": "肄业"}


@dataclass(frozen=True)
class StudentFacts:
    """What the read models say of one student."""

    status: str
    grade: int
    study_length: float
    filed_intake_year: int | None  # None: no FiledStudent row
    qualification_filed: bool  # a QualificationView for school + major + intake year
    open_problem_record: bool
    season: Season = "autumn"
    # Whether the certificate fonts print every character of the name (printing/coverage.py):
    # told now, the school has months to correct a name that would otherwise stop the issuing.
    name_printable: bool = True


@dataclass(frozen=True)
class Readiness:
    listed: bool
    late: bool  # beyond the 3-year postponement: the province must approve
    normal_end_year: int  # by the current grade
    blocks: tuple[Block, ...]

    @property
    def ready(self) -> bool:
        return self.listed and not self.blocks


def normal_end_year(start_year: int, study_length: float, season: Season = "autumn") -> int:
    """The June in which a course started in ``start_year`` ends (module docstring: rounding)."""
    left = study_length if season == "autumn" else study_length - 0.5
    return start_year + max(math.ceil(left), 0)


def intake_year(facts: StudentFacts) -> int:
    """The filed intake year, or the grade for a record never filed."""
    return facts.filed_intake_year if facts.filed_intake_year is not None else facts.grade


def graduation_readiness(facts: StudentFacts, graduating_year: int) -> Readiness:
    """Whether the student is on the year's pre-graduate list, and what blocks their 毕业."""
    current_end = normal_end_year(facts.grade, facts.study_length, facts.season)
    original_end = normal_end_year(intake_year(facts), facts.study_length, facts.season)
    due = min(current_end, original_end)
    record_open = facts.status in OPEN_STATUSES
    listed = due == graduating_year or (due < graduating_year and record_open)
    late = listed and graduating_year - original_end > MAX_DELAY_YEARS
    return Readiness(
        listed=listed,
        late=late,
        normal_end_year=current_end,
        blocks=graduation_blocks(facts, graduating_year, current_end) if listed else (),
    )


def graduation_blocks(facts: StudentFacts, graduating_year: int, current_end: int) -> tuple[Block, ...]:
    blocks: list[Block] = []
    if facts.filed_intake_year is None:
        blocks.append(Block.NOT_FILED)
    if not facts.qualification_filed:
        blocks.append(Block.NO_QUALIFICATION)
    if facts.open_problem_record:
        blocks.append(Block.OPEN_PROBLEM_RECORD)
    if facts.status == SUSPENDED:
        blocks.append(Block.SUSPENDED)
    elif facts.status != IN_SCHOOL:
        blocks.append(Block.NOT_IN_SCHOOL)
    if current_end > graduating_year:
        blocks.append(Block.STUDY_NOT_COMPLETED)
    if not facts.name_printable:
        blocks.append(Block.NAME_UNPRINTABLE)
    return tuple(blocks)


def outcome_refusals(readiness: Readiness, outcome: GraduationOutcome | str) -> tuple[Block, ...]:
    """The blocks that stand in the way of this outcome; empty when the school may give it."""
    tolerated = TOLERATED[outcome]
    return tuple(block for block in readiness.blocks if block not in tolerated)


def may_list_year(graduating_year: int, today: date) -> bool:
    """A school lists its graduates in their final school year (from September, ending in June of
    the graduating year) or later (a past year's late list); a year further ahead is refused."""
    final_school_year_ends = today.year + 1 if today.month >= SCHOOL_YEAR_STARTS_MONTH else today.year
    return graduating_year <= final_school_year_ends
