"""The two checks enrollment answers for a transfer (DOMAIN.md "Transfers").

They vouch for facts only (the student is ours and the name matches; the target school and class
are ours): whether the kind may take this student is the transfer service's judgement (its
domain/eligibility.py), from the facts these answers carry. Reasons are Chinese sentences: they
are shown to the registrars of both provinces as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.enrollment.domain.registration import names_match
from shared.events.common import Lineage

LINEAGE_LEVELS = ("province", "city", "county")
_LEVEL_ZH = {"province": "省份", "city": "地市", "county": "区县"}


@dataclass(frozen=True)
class CheckResult:
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class SchoolHere:
    """A school as this province's org tree knows it."""

    code: str
    province: str
    city: str
    county: str


@dataclass(frozen=True)
class ClassHere:
    class_id: str
    school_code: str


def destination_check(
    *,
    destination: Lineage,
    school: SchoolHere | None,
    class_id: str | None,
    klass: ClassHere | None,
    already_studying_here: bool,
) -> CheckResult:
    """Destination side: the target school is ours and sits where the application says, the
    class (if one is named) belongs to it, and the student does not already study here (for a
    move inside the province: at the target school; the caller decides what "here" is).
    """
    reasons: list[str] = []
    if school is None:
        reasons.append(f"转入学校（{destination.school}）在本省不存在")
    else:
        for level in LINEAGE_LEVELS:
            if getattr(school, level) != getattr(destination, level):
                reasons.append(f"转入学校不属于申请所填的{_LEVEL_ZH[level]}（{getattr(destination, level)}）")
    if class_id is not None:
        if klass is None:
            reasons.append(f"转入班级（{class_id}）不存在")
        elif klass.school_code != destination.school:
            reasons.append(f"转入班级（{class_id}）不属于转入学校")
    if already_studying_here:
        reasons.append("该学生在本省已有在籍学籍，不能重复转入")
    return CheckResult(tuple(reasons))


def origin_check(*, name_on_record: str | None, name_given: str) -> CheckResult:
    """Origin side: a student with the number is ours and the applicant's name matches the
    record. The status is reported with the student, not judged here."""
    if name_on_record is None:
        return CheckResult(("转出省无此学籍号的学生",))
    if not names_match(name_on_record, name_given):
        return CheckResult(("学生姓名与学籍号不符",))
    return CheckResult()
