"""Status changes (学籍异动, DOMAIN.md "Status changes"; seed 004 art. 17–19; seed 002 异动管理).

Which status a change may start from, and where it leads, is ``student_state``'s transition
table. This module adds what a row of that table cannot say: a change of major is refused in the
graduating year; a change back to full-time study after the check-in consequences goes to the
province (DOMAIN.md "Registration rounds": "a later change back needs province approval"); and
what the record looks like after the change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.student_state import (
    StudentAction,
    StudentState,
    TransitionNotAllowed,
    transition,
)


class ChangeType(StrEnum):
    REPEAT_YEAR = "repeat_year"  # 留级
    CHANGE_MAJOR = "change_major"  # 转专业
    CHANGE_STUDY_FORM = "change_study_form"  # 转学习形式
    SKIP_GRADE = "skip_grade"  # 跳级
    SUSPEND = "suspend"  # 休学
    RESUME = "resume"  # 复学
    WITHDRAW = "withdraw"  # 退学
    RESTORE = "restore"  # 恢复学籍
    DEREGISTER = "deregister"  # 注销
    DEATH = "death"  # 死亡
    GO_ABROAD = "go_abroad"  # 出境
    RETURN_FROM_ABROAD = "return_from_abroad"  # 入境复学


CHANGE_NAME_ZH = {
    ChangeType.REPEAT_YEAR: "留级",
    ChangeType.CHANGE_MAJOR: "转专业",
    ChangeType.CHANGE_STUDY_FORM: "转学习形式",
    ChangeType.SKIP_GRADE: "跳级",
    ChangeType.SUSPEND: "休学",
    ChangeType.RESUME: "复学",
    ChangeType.WITHDRAW: "退学",
    ChangeType.RESTORE: "恢复学籍",
    ChangeType.DEREGISTER: "注销学籍",
    ChangeType.DEATH: "死亡",
    ChangeType.GO_ABROAD: "出境",
    ChangeType.RETURN_FROM_ABROAD: "入境复学",
}

ACTION_OF: dict[ChangeType, StudentAction] = {
    ChangeType.REPEAT_YEAR: StudentAction.REPEAT_YEAR,
    ChangeType.CHANGE_MAJOR: StudentAction.CHANGE_MAJOR,
    ChangeType.CHANGE_STUDY_FORM: StudentAction.CHANGE_STUDY_FORM,
    ChangeType.SKIP_GRADE: StudentAction.SKIP_GRADE,
    ChangeType.SUSPEND: StudentAction.SUSPEND,
    ChangeType.RESUME: StudentAction.RESUME,
    ChangeType.WITHDRAW: StudentAction.WITHDRAW,
    ChangeType.RESTORE: StudentAction.RESTORE,
    ChangeType.DEREGISTER: StudentAction.DEREGISTER,
    ChangeType.DEATH: StudentAction.DIE,
    ChangeType.GO_ABROAD: StudentAction.GO_ABROAD,
    ChangeType.RETURN_FROM_ABROAD: StudentAction.RETURN_FROM_ABROAD,
}


@dataclass(frozen=True)
class Course:
    """The part of a record a status change may alter."""

    status: StudentState
    grade: int  # entry year
    major_code: str | None
    class_id: str | None
    study_length: float
    study_form: str  # full_time | part_time


@dataclass(frozen=True)
class ChangeRequest:
    type: ChangeType
    new_major_code: str | None = None
    new_class_id: str | None = None
    new_class_grade: int | None = None
    new_study_form: str | None = None


@dataclass(frozen=True)
class Refusal:
    field: str
    reason: str
    reason_zh: str


class ChangeRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def school_year_of(today: date) -> int:
    """The school year a date falls in, named by its autumn start (1 Sep, DOMAIN.md)."""
    return today.year if today.month >= 9 else today.year - 1


def graduating_school_year(entry_year: int, study_length: float) -> int:
    """The school year a student's study ends in (3 years from 2024 → 2026/27)."""
    return entry_year + math.ceil(study_length) - 1


def is_in_graduating_year(entry_year: int, study_length: float, today: date) -> bool:
    return school_year_of(today) >= graduating_school_year(entry_year, study_length)


def may_change_major(entry_year: int, study_length: float, today: date) -> bool:
    """DOMAIN.md "Status changes" / "Transfers": not in the graduating year."""
    return not is_in_graduating_year(entry_year, study_length, today)


# The changes a school must make after missed check-ins (DOMAIN.md "Registration rounds": 2
# consecutive or 4 cumulative misses → non-full-time, suspend or withdraw), and the changes that
# undo each: "a later change back needs province approval".
CHECKIN_CAUSE = "checkin_misses"
UNDOES: dict[ChangeType, ChangeType] = {
    ChangeType.RESUME: ChangeType.SUSPEND,
    ChangeType.RESTORE: ChangeType.WITHDRAW,
}


def required_levels(
    change: ChangeRequest, course: Course, *, undone_cause: str | None = None
) -> tuple[ReviewLevel, ...]:
    """Levels a change must reach whatever the configured chain: back from non-full-time to
    full-time study, or undoing a suspension or withdrawal made for missed check-ins
    (``undone_cause`` is the cause recorded on the change being undone), goes to the province."""
    if (
        change.type is ChangeType.CHANGE_STUDY_FORM
        and course.study_form == "part_time"
        and change.new_study_form == "full_time"
    ):
        return ("province",)
    if change.type in UNDOES and undone_cause == CHECKIN_CAUSE:
        return ("province",)
    return ()


def business_type(change: ChangeType) -> str:
    return f"status_change:{change.value}"


def apply_change(course: Course, change: ChangeRequest, today: date) -> Course:
    """The record after the change; raises ``ChangeRefused`` naming the field and the reason.

    Checked when the school starts the change and again when the last level approves: the
    record may have moved on in between.
    """
    try:
        status = transition(course.status, ACTION_OF[change.type])
    except TransitionNotAllowed:
        raise ChangeRefused(
            Refusal(
                "type",
                f"a student who is {course.status.value} cannot {change.type.value}",
                f"学籍状态为“{course.status.value}”的学生不能办理{CHANGE_NAME_ZH[change.type]}",
            )
        ) from None
    after = replace(course, status=status)
    # The types not matched below change only the status.
    match change.type:
        case ChangeType.REPEAT_YEAR:
            # 留级: the student joins the next cohort; a class of that cohort may be named.
            after = replace(after, grade=course.grade + 1)
            after = _with_class(after, change, expected_grade=course.grade + 1)
        case ChangeType.SKIP_GRADE:
            after = replace(after, grade=course.grade - 1)
            after = _with_class(after, change, expected_grade=course.grade - 1)
        case ChangeType.CHANGE_MAJOR:
            if not may_change_major(course.grade, course.study_length, today):
                raise ChangeRefused(
                    Refusal(
                        "type",
                        "a student in the graduating year cannot change major",
                        "毕业年级学生不能转专业",
                    )
                )
            if change.new_major_code is None or change.new_major_code == course.major_code:
                raise ChangeRefused(
                    Refusal("new_major_code", "name a major other than the current one", "请填写新的专业")
                )
            after = replace(after, major_code=change.new_major_code)
            after = _with_class(after, change, expected_grade=course.grade)
        case ChangeType.CHANGE_STUDY_FORM:
            if change.new_study_form is None or change.new_study_form == course.study_form:
                raise ChangeRefused(
                    Refusal(
                        "new_study_form", "name a study form other than the current one", "请填写新的学习形式"
                    )
                )
            after = replace(after, study_form=change.new_study_form)
        case ChangeType.RESUME | ChangeType.RETURN_FROM_ABROAD | ChangeType.RESTORE:
            # Coming back may mean joining a later cohort's class (the grade follows the class).
            if change.new_class_id is not None:
                after = replace(
                    after, class_id=change.new_class_id, grade=change.new_class_grade or course.grade
                )
    return after


def _with_class(after: Course, change: ChangeRequest, *, expected_grade: int) -> Course:
    if change.new_class_id is None:
        # The old class belongs to the old cohort or major: out of it until the school places them.
        return replace(after, class_id=None)
    if change.new_class_grade is not None and change.new_class_grade != expected_grade:
        raise ChangeRefused(
            Refusal(
                "new_class_id",
                f"the class must be of grade {expected_grade}",
                f"新班级应为{expected_grade}级",
            )
        )
    return replace(after, class_id=change.new_class_id)


@dataclass(frozen=True)
class Suspension:
    """When and at what grade a student was suspended (shown on 复学, DOMAIN.md)."""

    suspended_on: date
    grade: int
    class_id: str | None
