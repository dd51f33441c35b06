"""The two checks enrollment answers for a cross-province transfer (DOMAIN.md "Transfers").

Reasons are Chinese sentences: they are shown to the registrars of both provinces as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.enrollment.domain.registration import names_match
from services.enrollment.domain.student_state import StudentState, may_transfer_out
from shared.events.common import Lineage

LINEAGE_LEVELS = ("province", "city", "county")
_LEVEL_ZH = {"province": "省份", "city": "地市", "county": "区县"}
_STATE_ZH = {
    StudentState.IN_SCHOOL: "在校",
    StudentState.ON_LEAVE: "请假",
    StudentState.SUSPENDED: "休学",
    StudentState.WITHDRAWN: "退学",
    StudentState.TRANSFERRED_OUT: "已转出",
    StudentState.GRADUATED: "毕业",
    StudentState.COMPLETED: "结业",
    StudentState.LEFT_WITHOUT_COMPLETING: "肄业",
    StudentState.DEREGISTERED: "注销",
    StudentState.DEAD: "死亡",
    StudentState.SUSPECTED_DROPOUT: "疑似辍学",
    StudentState.DROPOUT: "辍学",
    StudentState.ABROAD: "出境",
}


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
    class (if one is named) belongs to it, and the student does not already study here.
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


def origin_check(
    *, found_state: StudentState | None, name_on_record: str | None, name_given: str
) -> CheckResult:
    """Origin side: the student is ours, the applicant's name matches the record, and the
    status allows leaving for another province."""
    if found_state is None or name_on_record is None:
        return CheckResult(("转出省无此学籍号的学生",))
    reasons: list[str] = []
    if not names_match(name_on_record, name_given):
        reasons.append("学生姓名与学籍号不符")
    if not may_transfer_out(found_state):
        reasons.append(f"学籍状态为“{_STATE_ZH[found_state]}”，不能办理跨省转学")
    return CheckResult(tuple(reasons))
