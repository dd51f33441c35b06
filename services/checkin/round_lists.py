"""The SQL behind a round's lists and statistics (seed 000 已完成名单 / 未完成名单 / 学籍注册统计).

Everything is one query per screen, filtered in the database: the caller's jurisdiction, the
round's eligibility rule (domain/eligibility.py, set-wise) and the screen's filters. Nothing is
loaded first and checked after, so a list of a province round stays one indexed query at 100k
students.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import QueryableAttribute

from services.checkin.domain.eligibility import FULL_TIME, IN_SCHOOL, REGISTRATION
from services.checkin.domain.fm4 import VALID_RESULTS
from services.checkin.domain.leave_request import GRANTED
from services.checkin.models import CheckIn, CounselorView, Leave, Round, RoundAttendance, StudentView
from shared.auth import Principal, Role
from shared.china_time import CHINA
from shared.jurisdiction import OrgColumns, jurisdiction_filter

ResultName = Literal["normal", "internship", "off_campus", "suspected_cheating"]
RESULTS: tuple[ResultName, ...] = ("normal", "internship", "off_campus", "suspected_cheating")
# 已完成 in the statistics (正常 + 正在实习, VALID_RESULTS) as a value of the completed list's
# result filter, so the statistics' "completed" number has the list behind it.
COMPLETED = "completed"
ResultFilter = Literal[ResultName, "completed"]
RESULT_ZH = {
    "normal": "正常",
    "internship": "正在实习",
    "off_campus": "不在校区",
    "suspected_cheating": "疑似作弊",
}
STUDY_FORM_ZH = {"full_time": "全日制", "part_time": "非全日制"}

STUDENT_ORG = OrgColumns(
    province=StudentView.province_code,
    city=StudentView.city_code,
    county=StudentView.county_code,
    school=StudentView.school_code,
    counselor=CounselorView.counselor_account_id,
    student=StudentView.student_id,
)


def visible(query: Select[Any], principal: Principal) -> Select[Any]:
    """Only the caller's students: a school its own, a county its schools', a counselor the
    students assigned to them (CounselorView), a student self."""
    if principal.role is Role.COUNSELOR:
        query = query.join(CounselorView, CounselorView.student_id == StudentView.student_id)
    return query.where(jurisdiction_filter(principal, STUDENT_ORG))


def round_days(round_row: Round) -> tuple[date, date]:
    """The calendar days (Asia/Shanghai) a round is open on."""
    return round_row.starts_at.astimezone(CHINA).date(), round_row.ends_at.astimezone(CHINA).date()


def granted_leave_overlapping(
    student_id: QueryableAttribute[str], first: date, last: date
) -> ColumnElement[bool]:
    """Approved (or ended) leave of the student that covers any day in ``first``..``last`` —
    the set-wise form of domain/leave_request.taken_span overlapping the period."""
    taken_last = func.least(Leave.ends_on, func.coalesce(Leave.ended_on, Leave.ends_on))
    return exists().where(
        Leave.student_id == student_id,
        Leave.state.in_([s.value for s in GRANTED]),
        Leave.starts_on <= last,
        taken_last >= first,
    )


def eligible_for(round_row: Round) -> ColumnElement[bool]:
    """domain/eligibility.eligibility(...) is ELIGIBLE, as SQL over ``student_view``: in the
    publisher's scope and a grade in scope, in school, full-time unless the round is a
    registration, and not on approved leave during the round."""
    scope = {
        "province": StudentView.province_code,
        "city": StudentView.city_code,
        "county": StudentView.county_code,
        "school": StudentView.school_code,
    }.get(round_row.scope_level)
    if scope is None:
        return false()
    conditions: list[ColumnElement[bool]] = [scope == round_row.scope_code, StudentView.status == IN_SCHOOL]
    if round_row.grades:
        conditions.append(StudentView.grade.in_(list(round_row.grades)))
    if round_row.kind != REGISTRATION:
        conditions.append(StudentView.study_form == FULL_TIME)
    first, last = round_days(round_row)
    conditions.append(~granted_leave_overlapping(StudentView.student_id, first, last))
    return and_(*conditions)


class StudentFilters(BaseModel):
    """The filters both lists share (seed 000: 年级 专业 班级 学制 学习形式 姓名 …) and the
    statistics too; a city or county selects a statistics group of a bureau. As query
    parameters beside paging; an export body forbids unknown keys (api/lists.py)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    city_code: str | None = Field(None, pattern=r"^[0-9]{4}$")
    county_code: str | None = Field(None, pattern=r"^[0-9]{6}$")
    school_code: str | None = Field(None, pattern=r"^[0-9]{10}$")
    grade: int | None = Field(None, ge=1990, le=2100)
    major_code: str | None = Field(None, max_length=20)
    class_id: str | None = Field(None, max_length=40)
    study_length: float | None = Field(None, gt=0, le=8)
    study_form: Literal["full_time", "part_time"] | None = None
    name: str | None = Field(None, min_length=1, max_length=50, description="name prefix")
    student_number: str | None = Field(None, min_length=2, max_length=40, description="exact")

    def apply(self, query: Select[Any]) -> Select[Any]:
        equal: list[tuple[QueryableAttribute[Any], Any]] = [
            (StudentView.city_code, self.city_code),
            (StudentView.county_code, self.county_code),
            (StudentView.school_code, self.school_code),
            (StudentView.grade, self.grade),
            (StudentView.major_code, self.major_code),
            (StudentView.class_id, self.class_id),
            (StudentView.study_length, self.study_length),
            (StudentView.study_form, self.study_form),
            (StudentView.student_number, self.student_number),
        ]
        for column, value in equal:
            if value is not None:
                query = query.where(column == value)
        if self.name:
            escaped = self.name.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            query = query.where(StudentView.name.like(f"{escaped}%"))
        return query

    def describe(self) -> str:
        parts = [f"{key}={value}" for key, value in self.model_dump(exclude_none=True).items()]
        return "，".join(parts) or "全部"


class CompletedFilters(StudentFilters):
    """已完成名单 adds the result and the check-in time (注册时间起/止, Asia/Shanghai dates or
    instants)."""

    result: ResultFilter | None = Field(
        None, description="one result, or completed: 正常 or 正在实习 (已完成 in the statistics)"
    )
    checked_in_from: datetime | None = None
    checked_in_to: datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CompletedFilters:
        if self.checked_in_from and self.checked_in_to and self.checked_in_to < self.checked_in_from:
            raise ValueError("checked_in_to is before checked_in_from")
        return self

    def apply(self, query: Select[Any]) -> Select[Any]:
        query = super().apply(query)
        if self.result == COMPLETED:
            query = query.where(RoundAttendance.result.in_(VALID_RESULTS))
        elif self.result is not None:
            query = query.where(RoundAttendance.result == self.result)
        if self.checked_in_from is not None:
            query = query.where(CheckIn.received_at >= _aware(self.checked_in_from))
        if self.checked_in_to is not None:
            query = query.where(CheckIn.received_at <= _aware(self.checked_in_to))
        return query


def _aware(moment: datetime) -> datetime:
    """A time without a zone is read as China time, as the screen shows it."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA)


def day_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


_STUDENT_COLUMNS = (
    StudentView.student_id,
    StudentView.student_number,
    StudentView.name,
    StudentView.id_number_masked,
    StudentView.school_code,
    StudentView.school_name,
    StudentView.grade,
    StudentView.major_code,
    StudentView.class_id,
    StudentView.study_length,
    StudentView.study_form,
)
_ORDER = (
    StudentView.school_code,
    StudentView.grade,
    StudentView.class_id,
    StudentView.name,
    StudentView.student_id,
)


def completed_query(principal: Principal, round_row: Round, filters: CompletedFilters) -> Select[Any]:
    """Eligible students with a decided check-in in the round (any result: off-campus and
    suspected cheating are on the list too, with their result — seed 000). Eligible as the
    statistics count: a student given leave covering the round after checking in, or no longer
    in school, is in neither the list nor its number."""
    query = (
        select(*_STUDENT_COLUMNS, RoundAttendance.result, CheckIn.received_at, CheckIn.reasons)
        .select_from(RoundAttendance)
        .join(StudentView, StudentView.student_id == RoundAttendance.student_id)
        .join(CheckIn, CheckIn.id == RoundAttendance.current_check_in_id)
        .where(
            RoundAttendance.round_id == round_row.id,
            RoundAttendance.result.is_not(None),
            eligible_for(round_row),
        )
    )
    return filters.apply(visible(query, principal))


def eligible_query(principal: Principal, round_row: Round, filters: StudentFilters) -> Select[Any]:
    """应核验名单: every student the round asks to check in (the statistics' eligible number),
    with the current result and its time when they have one."""
    query = (
        select(*_STUDENT_COLUMNS, RoundAttendance.result, CheckIn.received_at, CheckIn.reasons)
        .select_from(StudentView)
        .outerjoin(
            RoundAttendance,
            and_(
                RoundAttendance.round_id == round_row.id,
                RoundAttendance.student_id == StudentView.student_id,
            ),
        )
        .outerjoin(CheckIn, CheckIn.id == RoundAttendance.current_check_in_id)
        .where(eligible_for(round_row))
    )
    return filters.apply(visible(query, principal))


def incomplete_query(principal: Principal, round_row: Round, filters: StudentFilters) -> Select[Any]:
    """Eligible students without a valid check-in (正常 / 正在实习): those to chase, with their
    latest result if they tried (an off-campus attempt can still be replaced)."""
    query = (
        select(*_STUDENT_COLUMNS, RoundAttendance.result)
        .select_from(StudentView)
        .outerjoin(
            RoundAttendance,
            and_(
                RoundAttendance.round_id == round_row.id,
                RoundAttendance.student_id == StudentView.student_id,
            ),
        )
        .where(
            eligible_for(round_row),
            or_(RoundAttendance.result.is_(None), RoundAttendance.result.not_in(VALID_RESULTS)),
        )
    )
    return filters.apply(visible(query, principal))


def ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(*_ORDER)


def counted(query: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(query.order_by(None).subquery())


GroupBy = Literal["school", "class", "major", "grade", "city", "county"]
_GROUP_KEYS: dict[str, tuple[QueryableAttribute[Any], ...]] = {
    "school": (StudentView.school_code, StudentView.school_name),
    "class": (StudentView.school_code, StudentView.school_name, StudentView.class_id),
    "major": (StudentView.major_code,),
    "grade": (StudentView.grade,),
    "city": (StudentView.city_code,),
    "county": (StudentView.county_code,),
}


def group_key_names(by: GroupBy) -> list[str]:
    return [column.key for column in _GROUP_KEYS[by]]


def statistics_query(
    principal: Principal, round_row: Round, by: GroupBy | None, filters: StudentFilters
) -> Select[Any]:
    """Eligible students of the round per group (or in total when ``by`` is None), how many
    checked in, per result, and how many validly — one GROUP BY over the eligible set."""
    result = RoundAttendance.result
    keys = _GROUP_KEYS[by] if by else ()
    query = (
        select(
            *keys,
            func.count().label("eligible"),
            func.count(result).label("checked_in"),
            func.count().filter(result.in_(VALID_RESULTS)).label("completed"),
            *(func.count().filter(result == name).label(name) for name in RESULTS),
        )
        .select_from(StudentView)
        .outerjoin(
            RoundAttendance,
            and_(
                RoundAttendance.round_id == round_row.id,
                RoundAttendance.student_id == StudentView.student_id,
            ),
        )
        .where(eligible_for(round_row))
    )
    query = filters.apply(visible(query, principal))
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    return query
