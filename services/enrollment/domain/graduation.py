"""Graduation as enrollment applies it (DOMAIN.md "Graduation and certificates"; seed 004 art.
17–18): the province issues the certificate, enrollment ends the record as 毕业 / 结业 / 肄业;
a rollback voids the certificate and returns the record to in school.

Each certificate number reaches enrollment at most twice in meaning (issued, rolled back), but
possibly out of order (a retried delivery is requeued behind later ones) and possibly again (a
replay under a new envelope id, which the inbox cannot recognise). So what the record's history
already says about that number decides, not the status alone: a graduation already applied, or
one whose rollback came first, changes nothing; a rollback of a record that has moved on since
(e.g. released to another province after graduating) is noted but does not put it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from services.enrollment.domain.filing import Season, season_of_registration
from services.enrollment.domain.student_state import (
    StudentAction,
    StudentState,
    TransitionNotAllowed,
    transition,
)

Outcome = Literal["graduated", "completed", "left_without_completing"]
RollbackLevel = Literal["city", "county", "province"]

# Which status each outcome leads to, and from which statuses, is student_state's table.
OUTCOME_ACTION: dict[Outcome, StudentAction] = {
    "graduated": StudentAction.GRADUATE,
    "completed": StudentAction.COMPLETE,
    "left_without_completing": StudentAction.LEAVE_WITHOUT_COMPLETING,
}
OUTCOME_NAME_ZH: dict[StudentState, str] = {
    StudentState.GRADUATED: "毕业",
    StudentState.COMPLETED: "结业",
    StudentState.LEFT_WITHOUT_COMPLETING: "肄业",
}
LEVEL_NAME_ZH: dict[RollbackLevel, str] = {
    "county": "县级教育行政部门",
    "city": "市级教育行政部门",
    "province": "省教育厅",
}


@dataclass(frozen=True)
class CertificateTrail:
    """What a record's history already says about one certificate number."""

    graduated_as: StudentState | None = None  # the outcome its graduation was applied as
    rolled_back: bool = False  # its rollback was recorded (applied, or noted before the graduation)


class Step(StrEnum):
    APPLY = "apply"  # change the status: history line and StudentStatusChanged
    NOTE = "note"  # a history line only; the status stays
    NOTHING = "nothing"  # already done: a replay


@dataclass(frozen=True)
class Move:
    step: Step
    to: StudentState | None = None  # with APPLY
    note_zh: str = ""  # with NOTE: why the status stays


class GraduationRefused(Exception):
    """A certificate was issued to a record that cannot graduate now: an operator must look (the
    consumer retries, then dead-letters it with this reason)."""


def on_graduated(status: StudentState, outcome: Outcome, trail: CertificateTrail) -> Move:
    """What the issue of a certificate does to the record."""
    if trail.graduated_as is not None or trail.rolled_back:
        return Move(Step.NOTHING)
    try:
        to = transition(status, OUTCOME_ACTION[outcome])
    except TransitionNotAllowed:
        raise GraduationRefused(f"a student in status {status.value} cannot graduate") from None
    return Move(Step.APPLY, to=to)


def on_rolled_back(status: StudentState, trail: CertificateTrail) -> Move:
    """What the rollback of a graduation does to the record."""
    if trail.rolled_back:
        return Move(Step.NOTHING)
    if trail.graduated_as is None:
        # The rollback overtook its graduation (or the graduation never reached us): noted, so
        # the graduation, when it comes, finds its certificate already void.
        return Move(Step.NOTE, note_zh="此前未登记该证书的毕业，学籍状态不变")
    if status is not trail.graduated_as:
        return Move(Step.NOTE, note_zh="学籍此后已有其他变动，未恢复在校")
    # status is the outcome this certificate graduated the record as: the table has its row.
    return Move(Step.APPLY, to=transition(status, StudentAction.ROLL_BACK_GRADUATION))


def graduation_detail(to: StudentState, certificate_number: str, graduated_on: date, list_id: str) -> str:
    return (
        f"{OUTCOME_NAME_ZH[to]}（{certificate_mark(certificate_number)}"
        f"{graduated_on.year}年{graduated_on.month}月{graduated_on.day}日，毕业名单 {list_id}）"
    )


def rollback_detail(
    graduated_as: StudentState | None,
    certificate_number: str,
    reason: str,
    level: RollbackLevel,
    note_zh: str = "",
) -> str:
    name = "毕业" if graduated_as is None else OUTCOME_NAME_ZH.get(graduated_as, "毕业")
    detail = (
        f"撤销{name}（{certificate_mark(certificate_number)}证书作废）：{reason}；"
        f"撤销单位：{LEVEL_NAME_ZH[level]}"
    )
    return f"{detail}；{note_zh}" if note_zh else detail


def certificate_mark(certificate_number: str) -> str:
    """How a history line names its certificate; the closing comma keeps one number from
    matching a longer one that starts with it."""
    return f"证书编号 {certificate_number}，"


# --- The first day of study (seed 004 art. 17 学习起止年月) ------------------------------------
# Autumn intakes start in September, spring ones in March (seed 004). The record keeps the entry
# year (``grade``) only, not an admission date; the season comes from the intake the record was
# filed with (备案) and, for a record never filed here, from when it was registered.
_TERM_STARTS = {"autumn": (9, 1), "spring": (3, 1)}


def study_start(entry_year: int, season: Season) -> date:
    month, day = _TERM_STARTS[season]
    return date(entry_year, month, day)


def season_of_record(entry_year: int, filed_season: str | None, registered_on: date) -> Season:
    """The intake season of a record: its filing's, else read from the registration date when
    that falls in the entry year (a record registered in a later year — transferred in, or
    registered late — says nothing about the season: autumn, the usual intake)."""
    if filed_season in ("autumn", "spring"):
        return "spring" if filed_season == "spring" else "autumn"
    if registered_on.year == entry_year:
        return season_of_registration(registered_on)
    return "autumn"
