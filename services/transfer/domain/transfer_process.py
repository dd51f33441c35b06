"""The process every kind of transfer follows, over the kind's chain of review levels.

A case is under review at one level of its chain at a time; the last approval starts the move
of the records (调档), which ends when the destination holds the record. A rejection ends the
case with its reason; the applicant may cancel (撤销) while it is under review, never once the
records move; a level that stays undecided past its deadline lets the case expire.

The kinds (in_province_transfer.py, cross_province_transfer.py, study_after_graduation.py)
differ in their chains, who applies and whom they admit; the moves between states are these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from services.transfer.domain.review_levels import LEVEL_LABELS, ReviewLevel


class CaseState(StrEnum):
    UNDER_REVIEW = "UNDER_REVIEW"
    RECORDS_MOVING = "RECORDS_MOVING"  # every level approved: 自动调档 under way
    COMPLETED = "COMPLETED"  # 调档完毕
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


TERMINAL_STATES = frozenset({CaseState.COMPLETED, CaseState.REJECTED, CaseState.CANCELLED, CaseState.EXPIRED})
OPEN_STATES = frozenset(set(CaseState) - TERMINAL_STATES)


@dataclass(frozen=True)
class Progress:
    """Where a case is: its state and, under review, the level it waits for."""

    state: CaseState
    pending: ReviewLevel | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def started(chain: Sequence[ReviewLevel]) -> Progress:
    if not chain:
        raise ValueError("a transfer needs at least one review level")
    return Progress(CaseState.UNDER_REVIEW, chain[0])


def label(progress: Progress) -> str:
    """The words a registrar reads for the case's state."""
    if progress.state is CaseState.UNDER_REVIEW and progress.pending is not None:
        return f"待{LEVEL_LABELS[progress.pending]}审核"
    return STATE_LABELS[progress.state]


STATE_LABELS = {
    CaseState.UNDER_REVIEW: "审核中",
    CaseState.RECORDS_MOVING: "学籍调档中",
    CaseState.COMPLETED: "调档完毕",
    CaseState.REJECTED: "已驳回",
    CaseState.CANCELLED: "已撤销",
    CaseState.EXPIRED: "已超期终止",
}


# ---- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approve:
    """A reviewer approves at ``level``. The first approval needs both checks (the origin vouches
    for the student, the destination for its school and class): ``checks_passed`` is None while
    one has not come back."""

    name: ClassVar[str] = "approve"
    level: ReviewLevel
    checks_passed: bool | None = True


@dataclass(frozen=True)
class Reject:
    """A reviewer rejects at ``level``; ``level=None`` is the system rejecting a case whose checks
    or eligibility failed, which it can do only before anyone has approved."""

    name: ClassVar[str] = "reject"
    level: ReviewLevel | None = None


@dataclass(frozen=True)
class Cancel:
    name: ClassVar[str] = "cancel"


@dataclass(frozen=True)
class Expire:
    """The pending level let its deadline pass (deadlines.py says when)."""

    name: ClassVar[str] = "expire"


@dataclass(frozen=True)
class RecordsMoved:
    """The destination holds the record: 调档完毕."""

    name: ClassVar[str] = "records_moved"


Action = Approve | Reject | Cancel | Expire | RecordsMoved


class TransitionNotAllowed(Exception):
    """Why an action cannot be taken now, in English and in the registrar's words."""

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


def transition(progress: Progress, chain: Sequence[ReviewLevel], action: Action) -> Progress:
    """The case's progress after ``action``, or ``TransitionNotAllowed`` saying why not."""
    state = progress.state
    if state in TERMINAL_STATES:
        raise TransitionNotAllowed(
            f"the case is {state.value} and accepts no further action",
            f"该转学申请{STATE_LABELS[state]}，不能再操作",
        )
    if isinstance(action, RecordsMoved):
        if state is not CaseState.RECORDS_MOVING:
            raise TransitionNotAllowed(
                "records can move only after every level approved", "尚未全部审核通过，不能调档"
            )
        return Progress(CaseState.COMPLETED)
    if state is CaseState.RECORDS_MOVING:
        raise TransitionNotAllowed(
            "the records are already moving: the case can no longer be cancelled, reviewed or expire",
            "学籍档案已开始调转，不能撤销或再审核",
        )
    if isinstance(action, Cancel):
        return Progress(CaseState.CANCELLED)
    if isinstance(action, Expire):
        return Progress(CaseState.EXPIRED)
    pending = progress.pending
    assert pending is not None  # under review always waits for a level
    if isinstance(action, Reject) and action.level is None:
        if pending != chain[0]:
            raise TransitionNotAllowed(
                "a failed check can reject a case only before any review", "已有审核通过，不能因核验结果驳回"
            )
        return Progress(CaseState.REJECTED)
    if action.level != pending:
        raise TransitionNotAllowed(
            f"the case waits for the {pending.value} review, not {action.level}",
            f"该转学申请当前待{LEVEL_LABELS[pending]}审核",
        )
    if isinstance(action, Reject):
        return Progress(CaseState.REJECTED)
    if pending == chain[0]:
        _require_checks_passed(action.checks_passed)
    index = list(chain).index(pending)
    if index + 1 < len(chain):
        return Progress(CaseState.UNDER_REVIEW, chain[index + 1])
    return Progress(CaseState.RECORDS_MOVING)


def _require_checks_passed(checks_passed: bool | None) -> None:
    if checks_passed is None:
        raise TransitionNotAllowed("the checks have not come back yet", "学籍核验结果尚未返回，暂不能审核")
    if not checks_passed:
        raise TransitionNotAllowed("the checks failed", "学籍核验未通过，不能审核通过")
