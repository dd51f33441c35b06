"""When a pending review is due, when it is overdue, when it lets the case expire, and whom a
late step is flagged to.

Source: seed 004 art. 12 (转出学校、转入学校和学校双方学籍主管部门应分别在10个工作日内完成核办手续)
and issue 7 ("every step has 10 Chinese working days; overdue steps are flagged to the superior
and listed"; "every case ends done, rejected, cancelled or expired").

- **Due**: a level's 10 working days count from the day it began waiting (the case's
  ``pending_since`` as a date in China), that day not counted: the level is due on the 10th
  working day after it. The days are those of the province holding the case (the province whose
  office reviews at the level), whose calendar the caller passes in.
- **Overdue**: from the day after the due date; the step is then flagged, once, to the superior
  of the late office.
- **Expiry** (a decision: the article sets the deadline but no consequence): a step still
  undecided ``expiry_workdays`` working days after its due date lets the case expire (default 10,
  so 20 working days in all; setting ``XUEJI_TRANSFER_EXPIRY_WORKDAYS``; 0 never expires a case,
  the step is only flagged). Rejected: expiring on the due date itself — one late office would
  end a student's transfer before anyone above it had been told and could chase it.
- **Superior**: a school's is its county bureau, a county's the city, a city's the province, the
  province's the Ministry of Education (outside any province's system: no organisation code).

Pure: the calendar and today's date are arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from services.transfer.domain.review_levels import LEVEL_LABELS, CaseLineage, OrgLevel, ReviewLevel
from shared.workdays import Deadline, WorkdayCalendar

REVIEW_WORKDAYS = 10  # seed 004 art. 12

SuperiorLevel = Literal["county", "city", "province", "ministry"]

_SUPERIOR: Mapping[OrgLevel, SuperiorLevel] = MappingProxyType(
    {"school": "county", "county": "city", "city": "province", "province": "ministry"}
)


def review_due(began_on: date, calendar: WorkdayCalendar) -> Deadline:
    """The day a level that began waiting on ``began_on`` must be decided by (provisional when a
    day counted lies in a year whose holidays are not loaded yet)."""
    return calendar.add_workdays(began_on, REVIEW_WORKDAYS)


def is_overdue(due_on: date, today: date) -> bool:
    """The due day itself still counts as in time."""
    return today > due_on


def workdays_overdue(due_on: date, today: date, calendar: WorkdayCalendar) -> int:
    """Working days since the due date, 0 while in time; a rest day adds nothing."""
    return max(0, calendar.workdays_between(due_on, today))


def expires_on(due_on: date, calendar: WorkdayCalendar, expiry_workdays: int) -> date | None:
    """The last day a late step may still be decided before the case expires; None when the
    province lets cases wait (``expiry_workdays`` 0)."""
    if expiry_workdays < 0:
        raise ValueError("expiry_workdays must be 0 (never) or more")
    if expiry_workdays == 0:
        return None
    return calendar.add_workdays(due_on, expiry_workdays).due_on


def has_expired(due_on: date, today: date, calendar: WorkdayCalendar, expiry_workdays: int) -> bool:
    last_day = expires_on(due_on, calendar, expiry_workdays)
    return last_day is not None and today > last_day


def superior_of(level: ReviewLevel) -> SuperiorLevel:
    """The rank of the office a late step at ``level`` is flagged to."""
    return _SUPERIOR[level.org_level]


def superior_org(level: ReviewLevel, lineage: CaseLineage) -> str | None:
    """The organisation code of that office: the county, city or province above the reviewing
    office on the level's side; None for the ministry, or where the side's place is unknown."""
    rank = superior_of(level)
    if rank == "ministry":
        return None
    return lineage.side(level.side).org_at(rank)


def expiry_opinion(level: ReviewLevel, due_on: date) -> str:
    """The registrar's words on the expiry line of the timeline."""
    return f"{LEVEL_LABELS[level]}逾期未核办（应于{due_on.isoformat()}前办理），申请超期终止"
