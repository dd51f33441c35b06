"""Who must take part in a round (DOMAIN.md "Registration rounds and routine verification";
seed 001 二 and 三.5):

- the round concerns the student: inside the publisher's jurisdiction and of a grade in scope;
- the student is in school (在校) — suspended, withdrawn, graduated… students are not called;
- full-time students take part in every round; non-full-time students only in the two yearly
  registration rounds ("学习形式为非全日制学习的学生只需完成每年两次注册学籍");
- a student on approved leave is exempt during the leave ("不参与请假期间的学籍核验").

The same rule is applied set-wise in SQL (services/checkin/round_lists.py ``eligible_for``) for
the lists and when a round closes; the integration tests hold both to the same students.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

IN_SCHOOL = "in_school"
ON_LEAVE_STATUS = "on_leave"  # enrollment's 请假 status, should a school record it there too
FULL_TIME = "full_time"
REGISTRATION = "registration"


class Eligibility(StrEnum):
    """Whether a student must check in to a round; every refusal has its reason."""

    ELIGIBLE = "eligible"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_IN_SCHOOL = "not_in_school"
    NOT_FULL_TIME = "not_full_time"
    ON_LEAVE = "on_leave"

    @property
    def text(self) -> str:
        """What a student or registrar reads."""
        return _TEXT[self]

    @property
    def eligible(self) -> bool:
        return self is Eligibility.ELIGIBLE


_TEXT = {
    Eligibility.ELIGIBLE: "须参加本次核验",
    Eligibility.OUT_OF_SCOPE: "不在本次核验范围内（发布单位或年级）",
    Eligibility.NOT_IN_SCHOOL: "学籍状态不是在校，不参加核验",
    Eligibility.NOT_FULL_TIME: "非全日制学生只参加每年两次学籍注册",
    Eligibility.ON_LEAVE: "请假期间不参与学籍核验",
}


class _RoundRow(Protocol):
    kind: str
    grades: Sequence[int] | None
    scope_level: str
    scope_code: str


@dataclass(frozen=True)
class RoundScope:
    """Who a round is for. An empty ``grades`` means every grade (an ad-hoc roll call of a
    whole school); a registration round always names its grades."""

    kind: str  # registration | verification
    grades: tuple[int, ...]
    scope_level: str  # province | city | county | school
    scope_code: str

    @classmethod
    def of(cls, round_row: _RoundRow | Any) -> RoundScope:
        return cls(
            kind=round_row.kind,
            grades=tuple(round_row.grades or ()),
            scope_level=round_row.scope_level,
            scope_code=round_row.scope_code,
        )

    def covers(self, student: Candidate) -> bool:
        """The student's lineage is inside the publisher's and their grade is in scope."""
        code = {
            "province": student.province_code,
            "city": student.city_code,
            "county": student.county_code,
            "school": student.school_code,
        }.get(self.scope_level)
        if code is None or code != self.scope_code:
            return False
        return not self.grades or student.grade in self.grades


@dataclass(frozen=True)
class Candidate:
    """What eligibility needs of a student (from the student read model)."""

    status: str
    study_form: str
    grade: int
    province_code: str
    city_code: str
    county_code: str
    school_code: str

    @classmethod
    def of(cls, student_view_row: Any) -> Candidate:
        row = student_view_row
        return cls(
            status=row.status,
            study_form=row.study_form,
            grade=row.grade,
            province_code=row.province_code,
            city_code=row.city_code,
            county_code=row.county_code,
            school_code=row.school_code,
        )


def eligibility(round: RoundScope, student: Candidate, on_leave: bool) -> Eligibility:
    """Whether ``student`` must check in to ``round``. ``on_leave``: approved leave covers the
    moment in question (the caller decides which moment: now for a check-in, the round's
    period when it closes)."""
    if not round.covers(student):
        return Eligibility.OUT_OF_SCOPE
    if on_leave or student.status == ON_LEAVE_STATUS:
        return Eligibility.ON_LEAVE
    if student.status != IN_SCHOOL:
        return Eligibility.NOT_IN_SCHOOL
    if student.study_form != FULL_TIME and round.kind != REGISTRATION:
        return Eligibility.NOT_FULL_TIME
    return Eligibility.ELIGIBLE
