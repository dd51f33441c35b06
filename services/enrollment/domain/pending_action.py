"""Pending actions (待办) check-in's reports open for a school registrar (DOMAIN.md "Registration
rounds and routine verification"; seed 001 常态化核验):

- 2 consecutive or 4 cumulative missed rounds in a term (``MissThresholdReached``): within 5
  working days the school changes the study form to non-full-time, suspends or withdraws the
  student; an accepted appeal (``MissPromptWithdrawn``) closes the action and restores the
  previous status — a change made because of the prompt is reverted.
- leave past 15 days in a term (``SuspensionProposed``): the school suspends (休学) the student.

Which status changes answer which action, and what a revert restores, are the pure rules here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.enrollment.domain.status_change import ChangeType


class ActionKind(StrEnum):
    MISS_THRESHOLD = "miss_threshold"  # 连续2次或累计4次未参加核验
    SUSPENSION_PROPOSED = "suspension_proposed"  # 请假超过15天，应办理休学


class ActionState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # the answering status change was approved
    WITHDRAWN = "withdrawn"  # an appeal was accepted (a change made for it is reverted)


# DOMAIN.md: "the school registrar gets a prompt and must within 5 working days change …".
RESPONSE_WORKDAYS: dict[ActionKind, int] = {
    ActionKind.MISS_THRESHOLD: 5,
    # The seeds set no deadline for a proposed suspension: the 10 working days every review step
    # and problem record has.
    ActionKind.SUSPENSION_PROPOSED: 10,
}

MISS_RULE_ZH = {"two_consecutive": "连续2次", "four_cumulative": "累计4次"}


def title_of(kind: ActionKind, *, student_name: str, rule: str | None = None, leave_days: int = 0) -> str:
    if kind is ActionKind.MISS_THRESHOLD:
        return (
            f"{student_name} 本学期{MISS_RULE_ZH.get(rule or '', rule or '')}未参加核验："
            "请于5个工作日内办理转非全日制、休学或退学"
        )
    return f"{student_name} 本学期请假累计{leave_days}天（超过15天）：请办理休学"


@dataclass(frozen=True)
class Answer:
    """A status change as far as answering an action goes."""

    type: ChangeType
    new_study_form: str | None = None


def answers(kind: ActionKind, answer: Answer) -> bool:
    """Whether the change is one the action asks for."""
    if kind is ActionKind.MISS_THRESHOLD:
        if answer.type is ChangeType.CHANGE_STUDY_FORM:
            return answer.new_study_form == "part_time"
        return answer.type in (ChangeType.SUSPEND, ChangeType.WITHDRAW)
    return answer.type is ChangeType.SUSPEND


ANSWERS_ZH = {
    ActionKind.MISS_THRESHOLD: "转为非全日制、休学或退学",
    ActionKind.SUSPENSION_PROPOSED: "休学",
}


@dataclass(frozen=True)
class Standing:
    """The part of a record a prompt's change alters, and a revert restores."""

    status: str
    study_form: str


def may_revert(after_change: Standing, now: Standing) -> bool:
    """Revert only a record still as the change left it: one that moved on since (resumed,
    transferred, graduated …) is not put back over a later, legitimate change."""
    return after_change == now
