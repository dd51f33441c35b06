"""Who may roll back an issued graduation (DOMAIN.md "Graduation and certificates": "within half a
year by the supervising bureau, later only by the province").

Half a year is 6 calendar months from the graduation date, the last day included: a graduation
of 11 June may be rolled back by the county or city until 11 December, from 12 December only by
the province. A date with no match six months on ends the window on that month's last day
(31 August → 28/29 February). The supervising bureau is the school's county or city bureau
(seed 004 art. 5: the county runs its schools' records, the city supervises them); which
school's bureau the caller is, the jurisdiction filter on the query decides, not this rule.

Rolling back voids the certificate and returns the record to in school (enrollment applies
``GraduationRolledBack``); a reason is always required.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

from shared.auth import Role

WINDOW_MONTHS = 6
RollbackLevel = Literal["city", "county", "province"]
BUREAU_LEVELS: dict[Role, RollbackLevel] = {
    Role.COUNTY: "county",
    Role.CITY: "city",
    Role.PROVINCE: "province",
}


class RollbackRefused(Exception):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


def months_after(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, or that month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def bureau_window_ends(graduated_on: date) -> date:
    """The last day the supervising bureau may still roll back."""
    return months_after(graduated_on, WINDOW_MONTHS)


def may_roll_back(role: Role, graduated_on: date, today: date, reason: str) -> RollbackLevel:
    """The level the caller rolls back at; raises ``RollbackRefused`` with the rule when they may not."""
    if not reason.strip():
        raise RollbackRefused("a reason is required", "须填写撤销原因")
    level = BUREAU_LEVELS.get(role)
    if level is None:
        raise RollbackRefused(
            "only the supervising bureau or the province may roll back a graduation",
            "只有学籍主管部门或省教育厅可以撤销毕业",
        )
    if level != "province" and today > bureau_window_ends(graduated_on):
        ends = bureau_window_ends(graduated_on)
        raise RollbackRefused(
            f"more than half a year since the graduation on {graduated_on.isoformat()} "
            f"(the bureau's window ended {ends.isoformat()}): only the province may roll it back",
            f"毕业已超过半年（主管部门可撤销至 {ends.isoformat()}），只能由省教育厅撤销",
        )
    return level
