"""May a new student be registered into an intake today (DOMAIN.md "Enrollment"; seed 004 art. 6)?

Autumn intakes register by 20 Nov, spring ones by 20 Apr (``filing.registration_deadline``).
After that the province may open a supplementary window (补注册) for one intake, for the whole
province or limited to a city, a county or a school, from one date to another; a registration
is allowed when the intake's regular window is open or such a window covers the school today.

The intake of a registration is the class's entry year (``school_class.grade``) and a season.
A class carries no season, so it is read from the day of registration the way filing reads it
back from ``student.created_at`` (``filing.season_of_registration``): inside the entry year the
first half is the spring intake, the second the autumn one. A registration made after the entry
year (late, under a supplementary window) is of the autumn intake: autumn is the regular intake
of secondary vocational schools, and filing never asks after the entry year (its deadlines fall
inside it), so the reading cannot disagree with a filing. A spring class registering after its
year is therefore granted as the autumn intake of that year — the price of classes having no
season column.

A supplementary window also reopens the filing of its intake (``is_filing_reopened``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.enrollment.domain.filing import (
    Intake,
    intake_opens,
    is_registration_open,
    registration_deadline,
    season_of_registration,
)

SEASON_ZH = {"autumn": "秋季", "spring": "春季"}


@dataclass(frozen=True)
class SchoolPlace:
    """Where the registering school sits in the organisation tree."""

    province: str
    city: str
    county: str
    school: str


@dataclass(frozen=True)
class SupplementaryWindow:
    """A province's grant of late registration (补注册) for one intake. ``None`` levels are not
    limited: a county-wide window names province, city and county and leaves ``school`` None."""

    intake: Intake
    starts_on: date
    ends_on: date
    province: str
    city: str | None = None
    county: str | None = None
    school: str | None = None


def intake_of_registration(class_grade: int, on: date) -> Intake:
    """The intake a registration into a class of entry year ``class_grade`` made ``on`` is of."""
    if on.year == class_grade:
        return Intake(class_grade, season_of_registration(on))
    return Intake(class_grade, "autumn")


def window_covers(window: SupplementaryWindow, intake: Intake, place: SchoolPlace, today: date) -> bool:
    """The window is for this intake, names this school's place at every level it limits, and
    runs today (both end days included)."""
    if window.intake != intake or not window.starts_on <= today <= window.ends_on:
        return False
    limits = (
        (window.province, place.province),
        (window.city, place.city),
        (window.county, place.county),
        (window.school, place.school),
    )
    return all(limit is None or limit == actual for limit, actual in limits)


def is_filing_reopened(
    intake: Intake, place: SchoolPlace, today: date, windows: Iterable[SupplementaryWindow]
) -> bool:
    """A supplementary window that covers the school's intake today also opens the intake's
    filing (备案), until the window ends, whatever the regular filing deadline says.

    The lead's decision on issue 8: a student the province lets register late must be fileable,
    or the window leaves records that can never graduate (seed 004 art. 7: an unfiled student gets
    no certificate). Rejected: a separate filing grant, which a province would forget to open."""
    return any(window_covers(w, intake, place, today) for w in windows)


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def registration_refusal(
    intake: Intake, place: SchoolPlace, today: date, windows: Iterable[SupplementaryWindow]
) -> tuple[str, str] | None:
    """None when a new student of ``intake`` may be registered at ``place`` today, else the
    reason (en, zh) naming the deadline (or the opening day of an intake not yet open)."""
    if is_registration_open(intake, today):
        return None
    if any(window_covers(w, intake, place, today) for w in windows):
        return None
    season_zh = SEASON_ZH[intake.season]
    opens = intake_opens(intake)
    if today < opens:
        return (
            f"new-student registration for the {intake.year} {intake.season} intake opens on {opens}",
            f"{intake.year}年{season_zh}新生注册尚未开始（{_zh_date(opens)}开始）",
        )
    deadline = registration_deadline(intake)
    return (
        f"new-student registration for the {intake.year} {intake.season} intake closed on {deadline} "
        "and no supplementary window of the province covers this school today",
        f"{intake.year}年{season_zh}新生注册已于{_zh_date(deadline)}截止，本校当前无省级补注册窗口",
    )


def grant_problems(intake: Intake, starts_on: date, ends_on: date, today: date) -> list[tuple[str, str, str]]:
    """What is wrong with a supplementary window the province is opening, as (field, en, zh).

    A supplementary window follows the regular deadline (before it the regular window serves),
    runs forwards, and is not already over when it is granted."""
    problems: list[tuple[str, str, str]] = []
    deadline = registration_deadline(intake)
    if starts_on <= deadline:
        problems.append(
            (
                "starts_on",
                f"a supplementary window starts after the regular deadline {deadline}",
                f"补注册须在常规注册截止日（{_zh_date(deadline)}）之后开始",
            )
        )
    if ends_on < starts_on:
        problems.append(("ends_on", "the window ends before it starts", "结束日期早于开始日期"))
    elif ends_on < today:
        problems.append(("ends_on", "the window would already be over", "结束日期已过"))
    return problems
