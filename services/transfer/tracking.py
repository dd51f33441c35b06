"""Following transfers (跨省转学查询): the filter a registrar or bureau sets, the workbook it
exports, and monthly counts per province pair and kind. Pure: queries.py runs them as SQL.

Dates are China's: a case applied at 23:30 on the 31st in Beijing belongs to that day and month,
whatever the server's clock zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from services.transfer.domain.kinds import KINDS
from services.transfer.domain.transfer_process import STATE_LABELS, CaseState
from shared.china_time import CHINA
from shared.events.transfer import TransferKind
from shared.idnumber import mask_student_number
from shared.provinces import province_name

CHINA_ZONE_NAME = CHINA.key  # for PostgreSQL's timezone()
MAX_MONTHS = 120  # a monthly report spans at most ten years

_SEX_ZH = {"M": "男", "F": "女"}


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants from the start of ``first`` to the end of ``last`` (exclusive), both China days."""
    start = datetime.combine(first, time(0), CHINA) if first else None
    end = datetime.combine(last + timedelta(days=1), time(0), CHINA) if last else None
    return start, end


@dataclass(frozen=True)
class CaseFilter:
    """What the caller asked for; every field is optional and they all apply together."""

    origin_province: str | None = None
    dest_province: str | None = None
    kinds: tuple[TransferKind, ...] = ()
    states: tuple[CaseState, ...] = ()
    applied_from: date | None = None
    applied_to: date | None = None
    student_number: str | None = None
    student_name: str | None = None  # the whole name or its start
    school: str | None = None  # either side's school

    def as_dict(self) -> dict[str, Any]:
        """The filter as the audit log keeps it: only what was set, no full ID number."""
        values: dict[str, Any] = {
            "origin_province": self.origin_province,
            "dest_province": self.dest_province,
            "kind": [k.value for k in self.kinds],
            "state": [s.value for s in self.states],
            "from": self.applied_from.isoformat() if self.applied_from else None,
            "to": self.applied_to.isoformat() if self.applied_to else None,
            "student_number": mask_student_number(self.student_number) if self.student_number else None,
            "student_name": self.student_name,
            "school": self.school,
        }
        return {key: value for key, value in values.items() if value not in (None, [])}

    def stored(self) -> dict[str, Any]:
        """The filter as an export request keeps it, to be read back whole at download: unlike
        ``as_dict`` the student number stays unmasked, so it still selects the same student."""
        values = {**self.as_dict(), "student_number": self.student_number}
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_stored(cls, values: Mapping[str, Any]) -> CaseFilter:
        def day(key: str) -> date | None:
            return date.fromisoformat(values[key]) if values.get(key) else None

        return cls(
            origin_province=values.get("origin_province"),
            dest_province=values.get("dest_province"),
            kinds=tuple(TransferKind(k) for k in values.get("kind", ())),
            states=tuple(CaseState(s) for s in values.get("state", ())),
            applied_from=day("from"),
            applied_to=day("to"),
            student_number=values.get("student_number"),
            student_name=values.get("student_name"),
            school=values.get("school"),
        )

    def describe(self) -> str:
        """The filter in the registrar's words, for the workbook's first row."""
        parts = []
        if self.dest_province:
            parts.append(f"转入省份={province_name(self.dest_province)}")
        if self.origin_province:
            parts.append(f"转出省份={province_name(self.origin_province)}")
        if self.kinds:
            parts.append("业务类别=" + "、".join(KINDS[k].label for k in self.kinds))
        if self.states:
            parts.append("状态=" + "、".join(STATE_LABELS[s] for s in self.states))
        if self.applied_from or self.applied_to:
            first = self.applied_from.isoformat() if self.applied_from else "…"
            last = self.applied_to.isoformat() if self.applied_to else "…"
            parts.append(f"申请时间 {first} 至 {last}")
        if self.student_number:
            parts.append(f"全国学籍号={mask_student_number(self.student_number)}")
        if self.student_name:
            parts.append(f"姓名以“{self.student_name}”开头")
        if self.school:
            parts.append(f"学校={self.school}")
        return "；".join(parts) if parts else "全部"


EXPORT_HEADER = (
    "序号",
    "全国学籍号",
    "姓名",
    "性别",
    "身份证件号",
    "转入省份",
    "转入学校",
    "转出省份",
    "转出学校",
    "业务类别",
    "跨省转学状态",
    "申请时间",
    "办结时间",
)


def china_time(at: datetime | None) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def export_heading(case_filter: CaseFilter, count: int, by: str, at: datetime) -> str:
    return (
        f"跨省转学查询；条件：{case_filter.describe()}；共 {count} 条；导出人 {by}；导出时间 {china_time(at)}"
    )


def export_cells(index: int, summary: Any, origin_summary: Mapping[str, Any] | None) -> list[Any]:
    """One row of the workbook from a case summary (masked number) and the student summary the
    origin sent (masked ID, no birth date), which alone knows sex and the ID number."""
    sent = origin_summary or {}
    return [
        index,
        summary.student_number,
        summary.student_name,
        _SEX_ZH.get(sent.get("sex") or "", ""),
        sent.get("id_number_masked") or "",
        province_name(summary.dest_province),
        summary.dest_school_name,
        province_name(summary.origin_province),
        summary.origin_school_name or "",
        summary.kind_label,
        summary.state_label,
        china_time(summary.created_at),
        china_time(summary.ended_at),
    ]


# ---- monthly counts --------------------------------------------------------------------------


class Outcome(StrEnum):
    APPLIED = "applied"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ENDING_OUTCOMES = {
    CaseState.COMPLETED: Outcome.COMPLETED,
    CaseState.REJECTED: Outcome.REJECTED,
    CaseState.CANCELLED: Outcome.CANCELLED,
    CaseState.EXPIRED: Outcome.EXPIRED,
}


class BadMonth(ValueError):
    """A month or a span of months the report cannot take; the message names the field."""

    def __init__(self, field_name: str, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason
        self.reason_zh = reason_zh


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field_name: str) -> Month:
        try:
            first = datetime.strptime(text, "%Y-%m")
        except ValueError as exc:
            raise BadMonth(field_name, "must be a month as YYYY-MM", "应为年月（YYYY-MM）") from exc
        return cls(first.year, first.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_span(first: Month, last: Month) -> tuple[datetime, datetime]:
    """From the start of ``first`` to the start of the month after ``last``, China time."""
    if last < first:
        raise BadMonth("to", "must not be before from", "截止月份不能早于起始月份")
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_MONTHS:
        raise BadMonth("to", f"at most {MAX_MONTHS} months at once", f"一次最多统计 {MAX_MONTHS} 个月")
    return first.start(), last.next().start()


@dataclass
class MonthlyCount:
    month: str
    origin_province: str
    dest_province: str
    kind: TransferKind
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))


def monthly_counts(
    applied: Iterable[Sequence[Any]],
    ended: Iterable[Sequence[Any]],
) -> list[MonthlyCount]:
    """Cases applied per (month, origin, destination, kind), and cases ended per the same and
    their end state, as one row per key: a case counts as applied in the month it was applied
    and as completed, rejected, cancelled or expired in the month it ended."""
    rows: dict[tuple[str, str, str, str], MonthlyCount] = {}

    def row(month: str, origin: str, dest: str, kind: str) -> MonthlyCount:
        key = (month, origin, dest, kind)
        if key not in rows:
            rows[key] = MonthlyCount(month, origin, dest, TransferKind(kind))
        return rows[key]

    for month, origin, dest, kind, count in applied:
        row(month, origin, dest, kind).counts[Outcome.APPLIED] += count
    for month, origin, dest, kind, state, count in ended:
        row(month, origin, dest, kind).counts[ENDING_OUTCOMES[CaseState(state)]] += count
    return [rows[key] for key in sorted(rows)]
