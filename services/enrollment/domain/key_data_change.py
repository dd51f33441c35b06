"""Key-data change (关键数据变更, DOMAIN.md "Status changes … and key-data change"; seed 002).

Key data is name, sex, birth date, ID type and number, nationality. The rules: never the name
and the ID number in one change; both changed within one year → the change goes up to the
province; a student with a formal number (正式学籍号) may not become "no ID"; a new ID number
re-runs the duplicate check and the identity check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.registration import FORMAL_NUMBER_PREFIX

KEY_FIELDS = ("name", "sex", "birth_date", "id_type", "id_number", "nationality")
ONE_YEAR = timedelta(days=365)


@dataclass(frozen=True)
class KeyData:
    name: str
    sex: str | None
    birth_date: date | None
    id_type: str
    id_number: str | None
    nationality: str | None = None


@dataclass(frozen=True)
class PastChange:
    """A key-data change approved earlier, and the fields it changed."""

    approved_on: date
    fields: frozenset[str]


@dataclass(frozen=True)
class KeyDataVerdict:
    refusals: tuple[tuple[str, str, str], ...]  # (field, reason, reason_zh)
    changed: frozenset[str]
    required_levels: tuple[ReviewLevel, ...]
    reruns_checks: bool  # a new ID number: dedupe and identity check again

    @property
    def ok(self) -> bool:
        return not self.refusals


def changed_fields(current: KeyData, proposed: KeyData) -> frozenset[str]:
    return frozenset(f for f in KEY_FIELDS if getattr(current, f) != getattr(proposed, f))


def touches_id(fields: Iterable[str]) -> bool:
    return bool({"id_type", "id_number"} & set(fields))


def judge_key_data_change(
    current: KeyData,
    proposed: KeyData,
    *,
    student_number: str,
    past: Iterable[PastChange],
    today: date,
) -> KeyDataVerdict:
    """Whether the change may be submitted, which levels it must reach, whether checks re-run."""
    changed = changed_fields(current, proposed)
    refusals: list[tuple[str, str, str]] = []
    if not changed:
        refusals.append(("(body)", "nothing changes", "关键数据没有变化"))
    if "name" in changed and touches_id(changed):
        refusals.append(("name", "name and ID number cannot change at once", "姓名和身份证件号不能同时变更"))
    if student_number.startswith(FORMAL_NUMBER_PREFIX) and proposed.id_type == "none":
        refusals.append(
            (
                "id_type",
                "a student with a formal number cannot become a student without ID",
                "已有正式学籍号的学生不能变更为无证件",
            )
        )
    recent = set().union(*(p.fields for p in past if today - p.approved_on <= ONE_YEAR))
    both_in_a_year = ("name" in changed and touches_id(recent)) or (touches_id(changed) and "name" in recent)
    return KeyDataVerdict(
        refusals=tuple(refusals),
        changed=changed,
        required_levels=("province",) if both_in_a_year else (),
        reruns_checks=touches_id(changed) and proposed.id_number is not None,
    )
