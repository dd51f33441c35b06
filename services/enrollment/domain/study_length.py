"""Entry age and study length (学制) of a new secondary-vocational student.

Source: seed 004 (河南〔2021〕115) art. 10 and art. 12, DOMAIN.md "Enrollment" → "Study length":

- the basic study length is 3 years; junior-high graduates (应届初中毕业生) study 3 years;
- primary-school graduates in a province-approved arts major study 5 or 6 years;
- students aged 18 or more on 1 September of the entry year study 1 to 3 years;
- non-full-time (非全日制) students study at most 6 years;
- junior-high students who have not finished (未毕业初中学生) study 3.5 or 4 years;
- students from a general high school or technical school (普通高中/技工学校转入) study 3 years.

The seeds give no minimum entry age. We refuse ages nobody can have on a route (e.g. a
10-year-old "junior-high graduate": nine years of compulsory schooling from age 6 ends at 15),
allowing three years of early schooling or skipped grades before calling it an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

EntryRoute = Literal["junior_high_graduate", "primary_arts", "junior_high_unfinished", "high_school_transfer"]
StudyForm = Literal["full_time", "part_time"]

ENTRY_ROUTES_ZH: dict[EntryRoute, str] = {
    "junior_high_graduate": "应届初中毕业生",
    "primary_arts": "小学毕业起点艺术类",
    "junior_high_unfinished": "未毕业初中学生",
    "high_school_transfer": "普通高中或技工学校转入",
}

ADULT_AGE = 18  # art. 10: 入学当年9月1日已满十八周岁
PART_TIME_MAX_YEARS = 6.0  # art. 10: 注册非全日制学籍的学生，学制最长为6年

# Youngest plausible age on 1 September for each route (see the module docstring).
MINIMUM_ENTRY_AGE: dict[EntryRoute, int] = {
    "junior_high_graduate": 12,
    "primary_arts": 9,
    "junior_high_unfinished": 11,
    "high_school_transfer": 13,
}

_FULL_TIME_LENGTHS: dict[EntryRoute, frozenset[float]] = {
    "junior_high_graduate": frozenset({3.0}),
    "primary_arts": frozenset({5.0, 6.0}),
    "junior_high_unfinished": frozenset({3.5, 4.0}),
    "high_school_transfer": frozenset({3.0}),
}
_ADULT_LENGTHS = frozenset({1.0, 1.5, 2.0, 2.5, 3.0})


def age_on_september_first(birth: date, entry_year: int) -> int:
    """Completed years of age on 1 September of the entry year (周岁)."""
    first = date(entry_year, 9, 1)
    return first.year - birth.year - ((first.month, first.day) < (birth.month, birth.day))


def allowed_study_lengths(route: EntryRoute, age: int, study_form: StudyForm) -> frozenset[float]:
    """The study lengths a student of this route, age and study form may register with."""
    lengths = set(_FULL_TIME_LENGTHS[route])
    if age >= ADULT_AGE and route in ("junior_high_graduate", "high_school_transfer"):
        lengths |= _ADULT_LENGTHS  # art. 10: equivalent to high-school level, 1 to 3 years
    if study_form == "part_time":
        # Non-full-time students may stretch their course up to 6 years, never below the
        # shortest full-time length of their route.
        shortest = min(lengths)
        lengths |= {shortest + 0.5 * k for k in range(int((PART_TIME_MAX_YEARS - shortest) * 2) + 1)}
    return frozenset(x for x in lengths if x <= PART_TIME_MAX_YEARS)


@dataclass(frozen=True)
class EntryAgeProblem:
    reason_zh: str
    reason_en: str


def entry_age_and_study_length_problem(
    *, birth: date, entry_year: int, route: EntryRoute, study_length: float, study_form: StudyForm
) -> EntryAgeProblem | None:
    """None when the entry age fits the route and the study length is allowed for that age."""
    age = age_on_september_first(birth, entry_year)
    if age < MINIMUM_ENTRY_AGE[route]:
        return EntryAgeProblem(
            f"入学年龄不符合要求：{entry_year}年9月1日年龄为{age}岁，"
            f"{ENTRY_ROUTES_ZH[route]}入学年龄不应小于{MINIMUM_ENTRY_AGE[route]}岁",
            f"entry age {age} on 1 September {entry_year} is below {MINIMUM_ENTRY_AGE[route]} "
            f"for route {route}",
        )
    allowed = allowed_study_lengths(route, age, study_form)
    if study_length not in allowed:
        shown = "、".join(_years(x) for x in sorted(allowed))
        return EntryAgeProblem(
            f"入学年龄与学制不符：{entry_year}年9月1日年龄为{age}岁的{ENTRY_ROUTES_ZH[route]}"
            f"（{'全日制' if study_form == 'full_time' else '非全日制'}），学制应为{shown}年，填写的是"
            f"{_years(study_length)}年",
            f"study length {_years(study_length)} is not allowed for age {age}, route {route}, "
            f"{study_form}: allowed {', '.join(_years(x) for x in sorted(allowed))}",
        )
    return None


def _years(value: float) -> str:
    return f"{value:g}"
