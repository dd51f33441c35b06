"""Filing (备案) of an intake against the enrolment qualifications, and the registration windows
(DOMAIN.md "Enrollment"; seed 004 art. 6–8).

Autumn intakes register by 20 Nov and are filed by 20 Dec of the intake year; spring intakes by
20 Apr and 20 May. After the filing deadline nothing more is filed for that intake. A student
whose school + major is not qualified (招生资质) for the intake year cannot be filed. A province's
supplementary registration window (补注册) for the intake reopens its filing until the window
ends (``registration_window.is_filing_reopened``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Season = Literal["autumn", "spring"]

_REGISTRATION_BY = {"autumn": (11, 20), "spring": (4, 20)}
_FILING_BY = {"autumn": (12, 20), "spring": (5, 20)}
# An intake's window opens when its term starts: spring in February, autumn in September (seed 004:
# 秋季 9月, 春季 3月 admission; registration may begin a little earlier, on admission).
_OPENS = {"autumn": (8, 1), "spring": (2, 1)}


@dataclass(frozen=True)
class Intake:
    year: int
    season: Season


def registration_deadline(intake: Intake) -> date:
    month, day = _REGISTRATION_BY[intake.season]
    return date(intake.year, month, day)


def filing_deadline(intake: Intake) -> date:
    month, day = _FILING_BY[intake.season]
    return date(intake.year, month, day)


def intake_opens(intake: Intake) -> date:
    month, day = _OPENS[intake.season]
    return date(intake.year, month, day)


def is_registration_open(intake: Intake, today: date) -> bool:
    """New students of this intake may be registered today (the deadline day included)."""
    return intake_opens(intake) <= today <= registration_deadline(intake)


def is_filing_open(intake: Intake, today: date) -> bool:
    """The intake may be filed today; after the deadline, never again for that intake."""
    return intake_opens(intake) <= today <= filing_deadline(intake)


def may_file(
    *, qualified: bool, intake: Intake, today: date, reopened: bool = False
) -> tuple[str, str] | None:
    """None when the student may be filed, else the reason (en, zh). ``reopened``: a
    supplementary window of the province covers the school's intake today."""
    if not (reopened or is_filing_open(intake, today)):
        return (
            f"filing for the {intake.year} {intake.season} intake closed on {filing_deadline(intake)}",
            f"{intake.year}年{_SEASON_ZH[intake.season]}招生备案已于{filing_deadline(intake):%m月%d日}截止",
        )
    if not qualified:
        return (
            "the school has no enrolment qualification for this major in the intake year",
            "学校该专业当年无招生资质，不能备案",
        )
    return None


_SEASON_ZH = {"autumn": "秋季", "spring": "春季"}


def season_of_registration(registered_on: date) -> Season:
    """The intake a record was registered for, read from when it was registered: spring intakes
    register from February to 20 Apr, autumn ones from August to 20 Nov, so the first half of the
    year is spring. (The record keeps the entry year only, not the season.)"""
    return "spring" if registered_on.month <= 6 else "autumn"
